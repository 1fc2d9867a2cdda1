import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import type { CloneOutcome, CommandResult } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { RecordedCommand, TestContext, TestServer } from '@handyrep/plugin-sdk/testing';
import type { CloneRsyncConfig } from './config.js';
import { plugin } from './plugin.js';

const CONFIG: CloneRsyncConfig = {
  timeout_seconds: 3600,
  command_timeout_seconds: 30,
  checkpoint: 'fast',
  wait_for_archive: true,
  bwlimit_kbps: 0,
  ssh_key: '/var/lib/postgresql/.ssh/id_clone',
  known_hosts: '',
  strict_host_key_checking: 'yes',
  replication_passfile: 'handyrep-replication.pgpass',
};
const REPL_PASSWORD = 'repl-Pa55w0rd';
const SUPER_PASSWORD = 'super-Pa55w0rd';
const PGDATA = '/var/lib/postgresql/15/main';
const LABEL = 'START WAL LOCATION: 0/8000028 (file 000000010000000000000008)\nLABEL: handyrep clone of db3 from db1\n';

class Pretend {
  directory: 'missing' | 'empty' | 'nonempty' = 'missing';
  pid = '';
  rsync: Partial<CommandResult> = {
    exitCode: 0,
    stdout: 'Number of regular files transferred: 1,273\nTotal transferred file size: 30,598,902 bytes\n--- pg_control\nNumber of regular files transferred: 1\nTotal transferred file size: 8,192 bytes\n',
  };

  answer(command: RecordedCommand): Partial<CommandResult> | Error {
    const text = command.command;
    if (text.startsWith('step=probe-data-directory')) return { stdout: `state=${this.directory}\npid=${this.pid}\npg_version=${this.directory === 'nonempty' ? '15' : ''}\n` };
    if (text.startsWith('step=empty-data-directory')) {
      this.directory = 'empty';
      return { exitCode: 0 };
    }
    if (text.startsWith('step=rsync-data-directory')) return this.rsync;
    if (text.startsWith('step=read-postgresql.auto.conf')) return { stdout: "primary_conninfo = 'host=db2 password=x'\n" };
    if (text.startsWith('writeFile')) return { exitCode: 0 };
    return new Error(`unexpected command: ${text}`);
  }
}

async function setup(options: { servers?: TestServer[]; config?: Partial<CloneRsyncConfig> } = {}): Promise<{ kit: TestContext<CloneRsyncConfig>; pretend: Pretend; clone: (over?: Record<string, unknown>) => Promise<CloneOutcome> }> {
  const kit = createTestContext<CloneRsyncConfig>({
    name: 'clone_rsync',
    config: { ...CONFIG, ...options.config },
    servers: options.servers ?? [
      { name: 'db1', hostname: '10.0.0.1', role: 'master', pgdata: PGDATA, pg_bin: '/b' },
      { name: 'db2', hostname: '10.0.0.2', pgdata: PGDATA, pg_bin: '/b', rsync_ssh_key: '/home/pg/.ssh/db2_key', rsync_known_hosts: '/home/pg/kh' },
      { name: 'db3', hostname: '10.0.0.3', pgdata: PGDATA, pg_bin: '/b', ssh_user: 'pgcopy', ssh_port: 2222 },
    ],
    secrets: { replication_password: REPL_PASSWORD, superuser_password: SUPER_PASSWORD },
    settings: { handyrep: { replication_user: 'replicator' } },
  });
  const pretend = new Pretend();
  kit.shell.respond((command) => pretend.answer(command));
  kit.sql.when(/pg_backup_stop/, [{ lsn: '0/8000138', labelfile: LABEL, spcmapfile: '' }]);
  kit.sql.when(/pg_tablespace/, [{ names: null }]);
  const instance = await plugin.create(kit.context);
  return { kit, pretend, clone: (over = {}) => instance.clone({ target: 'db3', source: 'db1', upstream: 'db1', reclone: false, ...over }) as Promise<CloneOutcome> };
}

/** Shell steps and SQL statements interleaved in the order they happened. */
function timeline(kit: TestContext<CloneRsyncConfig>): string[] {
  return kit.shell.commands.map((c) => `${c.server}: ${/^step=([^\n]+)/.exec(c.command)?.[1] ?? c.command}`);
}

describe('clone_rsync clone', () => {
  it('backup start, rsync pushed from the source, backup stop in one session; backup_label and standby settings on the target', async () => {
    const { kit, clone } = await setup();
    const order: string[] = [];
    const run = kit.shell.runScript.bind(kit.shell);
    kit.shell.runScript = (server, script, options) => {
      order.push(`shell ${/^step=(\S+)/.exec(script)?.[1] ?? ''}`);
      return run(server, script, options);
    };
    const sessions: string[] = [];
    const withSession = kit.sql.withSession.bind(kit.sql);
    kit.sql.withSession = (target, work) => {
      sessions.push(`${target.server} ${String(target.statementTimeoutMs)}`);
      return withSession(target, (session) => work({ query: (text, params) => (order.push(`sql ${text.split('(')[0]}`), session.query(text, params)) }));
    };
    const result = await clone();
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.deepEqual(sessions, ['db1 3600000'], 'one session on the source');
    assert.deepEqual(order.slice(0, 6), [
      'shell probe-data-directory',
      'sql SELECT string_agg',
      'sql SELECT pg_backup_start',
      'shell rsync-data-directory',
      'sql SELECT lsn::text AS lsn, labelfile, spcmapfile FROM pg_backup_stop',
      'shell read-postgresql.auto.conf',
    ]);
    assert.deepEqual(kit.sql.queries.find((q) => /pg_backup_start/.test(q.text))?.params, ['handyrep clone of db3 from db1', true]);
    assert.deepEqual(kit.sql.queries.find((q) => /pg_backup_stop/.test(q.text))?.params, [true]);
    assert.deepEqual(timeline(kit), [
      'db3: probe-data-directory',
      'db1: rsync-data-directory',
      `db3: writeFile ${PGDATA}/backup_label`,
      `db3: writeFile ${PGDATA}/standby.signal`,
      `db3: writeFile ${PGDATA}/handyrep-replication.pgpass`,
      'db3: read-postgresql.auto.conf',
      `db3: writeFile ${PGDATA}/postgresql.auto.conf`,
    ]);
    const script = kit.shell.commands[1]?.command ?? '';
    assert.match(script, /timeout -k 10 3600 rsync --archive --whole-file -s --stats -e 'ssh -p 2222 .*-i \/var\/lib\/postgresql\/\.ssh\/id_clone -o IdentitiesOnly=yes' /);
    assert.match(script, / \/var\/lib\/postgresql\/15\/main\/ pgcopy@10\.0\.0\.3:\/var\/lib\/postgresql\/15\/main\/ <\/dev\/null/);
    assert.equal(kit.shell.commands[2]?.file?.content, LABEL);
    assert.equal(kit.shell.commands[2]?.file?.mode, 0o600);
    assert.equal(result.bytes_copied, 30_607_094);
    assert.equal((result as { files_copied?: number }).files_copied, 1274);
    assert.match(result.details, /db3 cloned from db1 with rsync in \d+ ms \(30607094 bytes in 1274 files\), backup ending at 0\/8000138; standby of db1/);
    for (const secret of [REPL_PASSWORD, SUPER_PASSWORD]) {
      assert.ok(kit.shell.commands.every((c) => !c.command.includes(secret)), 'no password on a command line');
      assert.ok(!JSON.stringify(result).includes(secret));
      assert.ok(!kit.logger.text().includes(secret));
    }
  });

  it('a source\'s own rsync_ssh_key and rsync_known_hosts win over the plugin\'s; tablespace_map is written when returned', async () => {
    const { kit, clone } = await setup();
    kit.sql.when(/pg_backup_stop/, [{ lsn: '0/9000000', labelfile: LABEL, spcmapfile: '16384 /srv/ts\n' }]);
    const result = await clone({ source: 'db2' });
    assert.equal(result.result, 'SUCCESS', result.details);
    const script = kit.shell.commands.find((c) => c.command.startsWith('step=rsync'))?.command ?? '';
    assert.match(script, /-i \/home\/pg\/\.ssh\/db2_key -o IdentitiesOnly=yes -o UserKnownHostsFile=\/home\/pg\/kh/);
    assert.equal(kit.shell.commands.find((c) => c.file?.path === `${PGDATA}/tablespace_map`)?.file?.content, '16384 /srv/ts\n');
  });

  it('refuses the master, a running target and a non-empty one without reclone; runs no SQL and no rsync', async () => {
    const master = await setup();
    assert.match((await master.clone({ target: 'db1', source: 'db2', upstream: 'db2', reclone: true })).details, /db1 is the master: refusing/);
    assert.equal(master.kit.shell.commands.length, 0);
    for (const [directory, pid, reclone, pattern] of [
      ['nonempty', '77', true, /postmaster PID 77\) is running on db3/],
      ['nonempty', '', false, /is not empty .*pass reclone/],
    ] as const) {
      const { kit, clone, pretend } = await setup();
      pretend.directory = directory;
      pretend.pid = pid;
      const result = await clone({ reclone });
      assert.equal(result.result, 'FAIL');
      assert.match(result.details, pattern);
      assert.deepEqual(timeline(kit), ['db3: probe-data-directory']);
      assert.equal(kit.sql.queries.length, 0);
    }
  });

  it('a failed rsync aborts the backup (no pg_backup_stop), removes the partial copy, FAIL with rsync\'s words', async () => {
    const { kit, clone, pretend } = await setup();
    pretend.directory = 'nonempty';
    pretend.rsync = { exitCode: 255, stderr: 'ssh: connect to host 10.0.0.3 port 2222: Connection refused\nrsync of the data directory exited with status 255\n' };
    const result = await clone({ reclone: true });
    assert.equal(result.result, 'FAIL');
    assert.equal(result.exit_code, 255);
    assert.match(result.details, /rsync from db1 to db3 failed: .*Connection refused.*; the partial copy was removed/);
    assert.ok(!kit.sql.queries.some((q) => /pg_backup_stop/.test(q.text)));
    assert.deepEqual(timeline(kit), ['db3: probe-data-directory', 'db3: empty-data-directory', 'db1: rsync-data-directory', 'db3: empty-data-directory']);
  });

  it('a source with tablespaces is refused before the backup starts', async () => {
    const { kit, clone } = await setup();
    kit.sql.when(/pg_tablespace/, [{ names: 'ts1' }]);
    const result = await clone();
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /has tablespaces \(ts1\).*use clone_basebackup/);
    assert.ok(!kit.sql.queries.some((q) => /pg_backup_start/.test(q.text)));
    assert.ok(!kit.shell.commands.some((c) => c.command.startsWith('step=rsync')));
  });

  it('a failing pg_backup_start is FAIL with the SQL error and copies nothing', async () => {
    const { kit, clone } = await setup();
    kit.sql.when(/pg_backup_start/, new HandyRepError(ErrorCodes.SQL, 'permission denied for function pg_backup_start'));
    const result = await clone();
    assert.equal(result.result, 'FAIL');
    assert.equal(result.error_code, ErrorCodes.SQL);
    assert.match(result.details, /permission denied/);
    assert.deepEqual(timeline(kit), ['db3: probe-data-directory']);
  });

  it('a key path with a space (from a server definition) is refused before anything runs', async () => {
    const { kit, clone } = await setup({
      servers: [
        { name: 'db1', role: 'master', pgdata: PGDATA, pg_bin: '/b', rsync_ssh_key: '/home/pg/my key' },
        { name: 'db3', pgdata: PGDATA, pg_bin: '/b' },
      ],
    });
    const result = await clone();
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /rsync_ssh_key .* may not hold whitespace/);
    assert.equal(kit.shell.commands.length, 0);
  });
});
