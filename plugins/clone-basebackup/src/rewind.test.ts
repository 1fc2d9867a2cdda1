import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import type { CloneOutcome, CommandResult } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { RecordedCommand, TestContext } from '@handyrep/plugin-sdk/testing';
import type { CloneBasebackupConfig } from './config.js';
import { TEST_CONFIG } from './test-support/test-config.js';
import { plugin } from './plugin.js';

const CONFIG: CloneBasebackupConfig = TEST_CONFIG;
const SUPER_PASSWORD = 'super-Pa55w0rd';
const REPL_PASSWORD = 'repl-Pa55w0rd';
const PGDATA = '/var/lib/postgresql/15/main';

interface Old {
  state: string;
  pid: string;
  rewind: Partial<CommandResult>;
}

async function setup(config: Partial<CloneBasebackupConfig> = {}): Promise<{ kit: TestContext<CloneBasebackupConfig>; old: Old; rewind: (target?: string, source?: string) => Promise<CloneOutcome> }> {
  const kit = createTestContext<CloneBasebackupConfig>({
    name: 'clone_basebackup',
    config: { ...CONFIG, ...config },
    servers: [
      // After a failover: db2 is the enabled master, db1 the disabled former master.
      { name: 'db1', hostname: '10.0.0.1', role: 'replica', enabled: false, pgdata: PGDATA, pg_bin: '/usr/lib/postgresql/15/bin' },
      { name: 'db2', hostname: '10.0.0.2', role: 'master', pgdata: PGDATA, pg_bin: '/usr/lib/postgresql/15/bin' },
    ],
    secrets: { superuser_password: SUPER_PASSWORD, replication_password: REPL_PASSWORD },
    settings: { handyrep: { replication_user: 'replicator' } },
  });
  const old: Old = {
    state: 'nonempty',
    pid: '',
    rewind: { exitCode: 0, stderr: 'pg_rewind: servers diverged at WAL location 0/3000060 on timeline 1\npg_rewind: 0/40 kB (0%) copied\npg_rewind: 40/40 kB (100%) copied\npg_rewind: Done!\n' },
  };
  kit.shell.respond((command: RecordedCommand) => {
    if (command.command.startsWith('step=probe-data-directory')) return { stdout: `state=${old.state}\npid=${old.pid}\npg_version=${old.state === 'nonempty' ? '15' : ''}\n` };
    if (command.command.startsWith('step=pg_rewind')) return old.rewind;
    if (command.command.startsWith('step=read-postgresql.auto.conf')) return { stdout: "primary_conninfo = 'host=10.0.0.1'\n" };
    if (command.command.startsWith('writeFile')) return { exitCode: 0 };
    return new Error(`unexpected command: ${command.command}`);
  });
  const instance = await plugin.create(kit.context);
  assert.ok(instance.rewind);
  const rewindFn = instance.rewind.bind(instance);
  return { kit, old, rewind: (target = 'db1', source = 'db2') => rewindFn({ target, source }) as Promise<CloneOutcome> };
}

function steps(kit: TestContext<CloneBasebackupConfig>): string[] {
  return kit.shell.commands.map((c) => /^step=([^\n]+)/.exec(c.command)?.[1] ?? c.command);
}

describe('clone_basebackup rewind', () => {
  it('runs pg_rewind on the stopped former master against the new master, then writes the standby settings', async () => {
    const { kit, rewind } = await setup();
    const result = await rewind();
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.deepEqual(steps(kit), [
      'probe-data-directory',
      'pg_rewind',
      `writeFile ${PGDATA}/standby.signal`,
      `writeFile ${PGDATA}/handyrep-replication.pgpass`,
      'read-postgresql.auto.conf',
      `writeFile ${PGDATA}/postgresql.auto.conf`,
    ]);
    const script = kit.shell.commands[1]?.command ?? '';
    // FakeSql's conninfo is `host=<server>`; the real one adds port, user, dbname and connect_timeout, never a password.
    assert.match(script, /^exec timeout -k 10 1800 \/usr\/lib\/postgresql\/15\/bin\/pg_rewind --target-pgdata=\/var\/lib\/postgresql\/15\/main --source-server=host=db2 --progress <\/dev\/null$/m);
    assert.match(script, /^PGPASSWORD=\$\(cat\) \|\| exit 1$/m);
    assert.equal(kit.shell.commands[1]?.input, SUPER_PASSWORD, 'the superuser password travels on stdin');
    assert.equal(kit.shell.commands[1]?.server, 'db1');
    const autoConf = kit.shell.commands[5]?.file?.content ?? '';
    assert.match(autoConf, /^primary_conninfo = 'host=10\.0\.0\.2 port=5432 user=replicator passfile=\S+ application_name=db1'$/m);
    assert.equal(result.bytes_copied, 40 * 1024);
    assert.deepEqual(kit.sql.queries.map((q) => [q.target.server, q.text]), [['db2', 'CHECKPOINT']], 'the source checkpoints first');
    assert.match(result.details, /db1 rewound with pg_rewind in \d+ ms \(40960 bytes copied\); standby of db2/);
    for (const secret of [SUPER_PASSWORD, REPL_PASSWORD]) {
      assert.ok(kit.shell.commands.every((c) => !c.command.includes(secret)));
      assert.ok(!JSON.stringify(result).includes(secret));
    }
  });

  it('"no rewind required" is SUCCESS with the standby settings written and 0 bytes', async () => {
    const { rewind, old } = await setup();
    old.rewind = { exitCode: 0, stderr: 'pg_rewind: source and target cluster are on the same timeline\npg_rewind: no rewind required\n' };
    const result = await rewind();
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.bytes_copied, 0);
    assert.match(result.details, /needed no rewind/);
  });

  it('a pg_rewind failure is FAIL with its message, and nothing is written (never start it as a standby)', async () => {
    const { kit, rewind, old } = await setup();
    old.rewind = {
      exitCode: 1,
      stderr: `pg_rewind: servers diverged at WAL location 0/3000060 on timeline 1\npg_rewind: error: could not open file "/x/pg_wal/000000010000000000000002": No such file or directory\npg_rewind: fatal: password ${SUPER_PASSWORD}\n`,
    };
    const result = await rewind();
    assert.equal(result.result, 'FAIL');
    assert.equal(result.exit_code, 1);
    assert.match(result.details, /pg_rewind of db1 from db2 failed: .*could not open file .*000000010000000000000002.*do not start db1 as a standby: reclone it/);
    assert.deepEqual(steps(kit), ['probe-data-directory', 'pg_rewind']);
    assert.ok(!JSON.stringify(result).includes(SUPER_PASSWORD));
  });

  it('refuses a running server, the enabled master, an empty directory and itself, running at most the probe', async () => {
    const running = await setup();
    running.old.pid = '4242';
    const r1 = await running.rewind();
    assert.equal(r1.result, 'FAIL');
    assert.match(r1.details, /PostgreSQL is running on db1 \(postmaster PID 4242\).*nothing touched/);
    assert.deepEqual(steps(running.kit), ['probe-data-directory']);

    const master = await setup();
    const r2 = await master.rewind('db2', 'db1');
    assert.match(r2.details, /db2 is the enabled master: refusing/);
    assert.equal(master.kit.shell.commands.length, 0);

    const empty = await setup();
    empty.old.state = 'missing';
    const r3 = await empty.rewind();
    assert.match(r3.details, /holds no PostgreSQL data directory to rewind \(missing\)/);
    assert.deepEqual(steps(empty.kit), ['probe-data-directory']);

    const self = await setup();
    const r4 = await self.rewind('db1', 'db1');
    assert.match(r4.details, /cannot be rewound onto itself/);
    assert.equal(self.kit.shell.commands.length, 0);
  });

  it('a CHECKPOINT on the source that fails is FAIL before pg_rewind runs', async () => {
    const { kit, rewind } = await setup();
    kit.sql.when(/CHECKPOINT/, new HandyRepError(ErrorCodes.SQL, 'connection refused'));
    const result = await rewind();
    assert.equal(result.result, 'FAIL');
    assert.equal(result.error_code, ErrorCodes.SQL);
    assert.match(result.details, /CHECKPOINT on db2 before pg_rewind failed: connection refused; nothing touched/);
    assert.deepEqual(steps(kit), ['probe-data-directory']);
  });

  it('passes --restore-target-wal when configured', async () => {
    const { kit, rewind } = await setup({ rewind_restore_target_wal: true });
    await rewind();
    assert.match(kit.shell.commands[1]?.command ?? '', / --progress --restore-target-wal </);
  });
});
