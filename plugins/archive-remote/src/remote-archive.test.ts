import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shellQuote } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { ArchiveRemoteConfig } from './config.js';
import { RemoteArchive } from './remote-archive.js';

const CONFIG: ArchiveRemoteConfig = {
  script_path: '',
  fsync: true,
  copy_timeout_seconds: 60,
  ssh_connect_timeout_seconds: 5,
  ssh_identity_file: '/var/lib/postgresql/.ssh/archive_key',
  ssh_known_hosts_file: '',
  strict_host_key_checking: 'yes',
  command_timeout_seconds: 8,
  query_timeout_seconds: 3,
};
const DIR = "/srv/wal archive/it's $(here)";

function setup(archive: Record<string, unknown> = {}) {
  const test = createTestContext<ArchiveRemoteConfig>({
    name: 'archive_remote',
    config: CONFIG,
    servers: [
      { name: 'db1', role: 'master', hostname: '10.0.0.1', pgdata: '/var/lib/postgresql/15/main' },
      { name: 'vault', role: 'archive', hostname: 'vault.example', ssh_user: 'walkeeper', ssh_port: 2200 },
    ],
    settings: { archive: { archiving: true, archive_server: 'vault', archive_directory: DIR, archive_touch_file: '', ...archive } },
  });
  return { ...test, archive: new RemoteArchive(test.context) };
}

describe('archive_remote with a fake shell', () => {
  it('pushScript writes the ssh script (0700) beside pgdata and checks the archive host from the master, with a longer time-out', async () => {
    const s = setup();
    const seen: (number | undefined)[] = [];
    const spy = {
      run: s.shell.run.bind(s.shell),
      runLocal: s.shell.runLocal.bind(s.shell),
      writeFile: s.shell.writeFile.bind(s.shell),
      runScript: (server: string, script: string, options?: { timeoutMs?: number }) => (seen.push(options?.timeoutMs), s.shell.runScript(server, script, options)),
    };
    const archive = new RemoteArchive({ ...s.context, shell: spy });
    const result = await archive.pushScript('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.match(result.details, /db1 reaches vault \(walkeeper@vault\.example, port 2200\)/);
    const [write, check] = s.shell.commands;
    assert.equal(write?.file?.path, '/var/lib/postgresql/15/handyrep_archive.sh');
    assert.equal(write?.file?.mode, 0o700);
    const script = write?.file?.content ?? '';
    assert.match(script, /-i \/var\/lib\/postgresql\/\.ssh\/archive_key -o IdentitiesOnly=yes -p 2200 -l walkeeper -- vault\.example "\$1"/);
    assert.ok(script.includes(`TOUCH_FILE=/var/lib/postgresql/15/handyrep_noarchiving`));
    assert.equal(check?.command, '/var/lib/postgresql/15/handyrep_archive.sh --check');
    assert.deepEqual(seen, [13_000]);
    assert.equal((result as unknown as { archive_server: string }).archive_server, 'vault');
  });

  it('a failed check from the master says what the master needs (key-based ssh, known host key)', async () => {
    const s = setup();
    s.shell.when(/--check$/, { exitCode: 1, stderr: 'Host key verification failed.\nhandyrep archive: check on walkeeper@vault.example:2200 failed (exit 255)\n' });
    const result = await s.archive.pushScript('db1');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /could not prepare .* on vault .* over ssh: Host key verification failed\.[\s\S]*needs key-based ssh to the archive host/);
    assert.equal((result as unknown as { exit_code: number }).exit_code, 1);
  });

  it('without [archive] archive_server, or naming an unknown server, nothing runs and the result says why', async () => {
    const none = setup({ archive_server: '' });
    for (const call of [() => none.archive.pushScript('db1'), () => none.archive.start('db1'), () => none.archive.stop('db1')]) {
      const result = await call();
      assert.equal(result.result, 'FAIL');
      assert.match(result.details, /needs \[archive\] archive_server/);
    }
    assert.equal(none.shell.commands.length, 0);
    const unknown = await setup({ archive_server: 'nope' }).archive.pushScript('db1');
    assert.equal((unknown as unknown as { error_code: string }).error_code, 'HR_UNKNOWN_SERVER');
  });

  it('stop and start manage the touch file on the master, its path quoted', async () => {
    const s = setup({ archive_touch_file: "/var/run/no archiving 'now'" });
    assert.equal((await s.archive.stop('db1')).result, 'SUCCESS');
    assert.equal((await s.archive.start('db1')).result, 'SUCCESS');
    const [stop, start] = s.shell.commands;
    assert.equal(stop?.server, 'db1');
    assert.ok(stop?.command.startsWith(`touch=${shellQuote("/var/run/no archiving 'now'")}\n`), stop?.command);
    assert.match(start?.command ?? '', /rm -f -- "\$touch"/);
  });

  it('poll reports pg_stat_archiver of the master and the archive server name', async () => {
    const s = setup();
    s.sql.when(/pg_stat_archiver/, [{
      archived_count: '2', failed_count: '1', last_archived_wal: 'A', last_archived_epoch: 100, last_failed_wal: 'B', last_failed_epoch: 200,
      archive_mode: 'on', archive_command: '/var/lib/postgresql/15/handyrep_archive.sh %p %f', in_recovery: false, ready_count: 4,
    }]);
    s.shell.when(/^test -e /, { exitCode: 1 });
    const result = await s.archive.poll('db1');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /failing on db1: last failure B/);
    assert.equal((result as unknown as { archive_server: string }).archive_server, 'vault');
    assert.equal((result as unknown as { touch_file_present: boolean }).touch_file_present, false);
  });
});
