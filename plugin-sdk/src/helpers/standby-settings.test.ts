import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestContext } from '../testing/test-context.js';
import { pgServer } from './pg-server.js';
import { replicationUser, writeStandbySettings } from './standby-settings.js';

const server = (name: string, pgdata: string) => pgServer({ name, role: 'replica', hostname: `${name}.example`, port: 5432, pgdata, pg_bin: '/bin', enabled: true, status: 'unknown', status_no: 0, status_ts: '', status_message: '' });

describe('writeStandbySettings', () => {
  it('writes standby.signal first, then the passfile, then primary_conninfo into postgresql.auto.conf', async () => {
    const { context, shell } = createTestContext({ secrets: { replication_password: 'pw' }, settings: { handyrep: { replication_user: 'rep' } } });
    shell.when(/read-postgresql\.auto\.conf/, { stdout: "work_mem = '8MB'\nprimary_conninfo = 'host=old password=x'\n" });
    const written = await writeStandbySettings(context, server('db3', '/srv/pg'), server('db1', '/srv/x'), 'my.pgpass', 1000);
    assert.deepEqual(written, { primary_conninfo: 'host=db1.example port=5432 user=rep passfile=/srv/pg/my.pgpass application_name=db3', passfile: '/srv/pg/my.pgpass' });
    assert.deepEqual(
      shell.commands.map((command) => command.file ?? command.command.split('\n')[0]),
      [
        { path: '/srv/pg/standby.signal', content: '', mode: 0o600 },
        { path: '/srv/pg/my.pgpass', content: '*:*:*:rep:pw\n', mode: 0o600 },
        'step=read-postgresql.auto.conf',
        { path: '/srv/pg/postgresql.auto.conf', content: `work_mem = '8MB'\nprimary_conninfo = '${written.primary_conninfo}'\n`, mode: 0o600 },
      ],
    );
    assert.ok(shell.commands.every((command) => command.server === 'db3'));
  });

  it('writes no passfile without a password or with the setting empty; replicator is the default user', async () => {
    const { context, shell } = createTestContext();
    assert.equal(replicationUser(context), 'replicator');
    const written = await writeStandbySettings(context, server('db3', '/srv/pg'), server('db1', '/srv/x'), 'my.pgpass', 1000);
    assert.equal(written.passfile, undefined);
    assert.doesNotMatch(written.primary_conninfo, /passfile/);
    assert.equal(shell.commands.filter((command) => command.file?.path.endsWith('.pgpass')).length, 0);
  });

  it('throws REMOTE_COMMAND when postgresql.auto.conf cannot be read, after standby.signal', async () => {
    const { context, shell } = createTestContext();
    shell.when(/read-postgresql\.auto\.conf/, { exitCode: 1, stderr: 'Permission denied\n' });
    await assert.rejects(writeStandbySettings(context, server('db3', '/srv/pg'), server('db1', '/srv/x'), '', 1000), {
      code: 'HR_REMOTE_COMMAND',
      message: 'reading /srv/pg/postgresql.auto.conf on db3 failed: Permission denied',
    });
    assert.equal(shell.commands[0]?.file?.path, '/srv/pg/standby.signal');
  });
});
