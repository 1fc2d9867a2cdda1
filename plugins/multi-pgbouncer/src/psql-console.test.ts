import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { MultiPgbouncerConfig } from './config.js';
import { FIELD_SEPARATOR, parsePsqlOutput, psqlScript, PsqlProxyConsole } from './psql-console.js';
import type { PsqlInvocation } from './psql-console.js';

const scratch = mkdtempSync(join(tmpdir(), 'multi-pgbouncer-psql-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const PASSWORD = "pw with 'quotes' $(id) and spaces";

const CONFIG: MultiPgbouncerConfig = {
  database_list: ['appdb'],
  readonly_suffix: '_ro',
  admin_method: 'psql',
  admin_user: 'pgb_admin',
  admin_password_key: 'pgbouncer_admin',
  pause_timeout_seconds: 5,
  on_pause_timeout: 'kill',
  failover_disconnect: 'kill',
  admin_timeout_seconds: 3,
  command_timeout_seconds: 10,
  psql_path: 'psql',
};

/** A psql stand-in recording its arguments (one per line) and the PG* variables it got. */
function fakePsql(): { path: string; argv: () => string[]; env: () => string } {
  const path = join(scratch, 'psql');
  writeFileSync(
    path,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > ${scratch}/argv.txt\nprintf 'PGPASSWORD=%s|PGCONNECT_TIMEOUT=%s|PGAPPNAME=%s' "\${PGPASSWORD-unset}" "$PGCONNECT_TIMEOUT" "$PGAPPNAME" > ${scratch}/env.txt\nprintf 'name\\037host\\037paused\\nappdb\\03710.0.0.1\\0371\\n'\n`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    argv: () => readFileSync(join(scratch, 'argv.txt'), 'utf8').split('\n').slice(0, -1),
    env: () => readFileSync(join(scratch, 'env.txt'), 'utf8'),
  };
}

function invocation(over: Partial<PsqlInvocation>): PsqlInvocation {
  return {
    psql: 'psql', host: '/run/pgbouncer', port: 6432, user: 'pgbouncer', database: 'pgbouncer', command: 'SHOW DATABASES',
    connectTimeoutSeconds: 3, timeoutSeconds: 8, withPassword: false, ...over,
  };
}

describe('psql over SSH', () => {
  it('the script, run by a real shell, passes every argument intact and the password only through PGPASSWORD from stdin', () => {
    const psql = fakePsql();
    const script = psqlScript(invocation({ psql: psql.path, user: "o'brien", command: 'PAUSE appdb', withPassword: true }));
    assert.ok(!script.includes(PASSWORD));
    const run = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', input: `${PASSWORD}\n` });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(psql.argv(), [
      '-X', '-q', '-w', '-A', '-F', FIELD_SEPARATOR, '-P', 'footer=off', '-v', 'ON_ERROR_STOP=1',
      '-h', '/run/pgbouncer', '-p', '6432', '-U', "o'brien", '-d', 'pgbouncer', '-c', 'PAUSE appdb',
    ]);
    assert.equal(psql.env(), `PGPASSWORD=${PASSWORD}|PGCONNECT_TIMEOUT=3|PGAPPNAME=handyrep`);
    assert.deepEqual(parsePsqlOutput(run.stdout), [{ name: 'appdb', host: '10.0.0.1', paused: '1' }]);
  });

  it('without a password, none is read and an inherited PGPASSWORD is dropped', () => {
    const psql = fakePsql();
    const run = spawnSync('/bin/sh', ['-c', psqlScript(invocation({ psql: psql.path }))], { encoding: 'utf8', env: { ...process.env, PGPASSWORD: 'leak' } });
    assert.equal(run.status, 0, run.stderr);
    assert.match(psql.env(), /^PGPASSWORD=unset\|/);
  });

  it('no output is no rows; missing cells are empty', () => {
    assert.deepEqual(parsePsqlOutput(''), []);
    assert.deepEqual(parsePsqlOutput(`a${FIELD_SEPARATOR}b\nx\n`), [{ a: 'x', b: '' }]);
  });

  it('PsqlProxyConsole sends the password on stdin, maps timeout exit 124 to HR_TIMEOUT and masks passwords in errors', async () => {
    const kit = createTestContext<MultiPgbouncerConfig>({
      config: CONFIG,
      servers: [{ name: 'bouncer1', hostname: '10.0.0.11', role: 'pgbouncer', port: 6432, pgbouncer_socket_dir: '/run/pgbouncer' }],
      secrets: { pgbouncer_admin: PASSWORD, superuser_password: 'su-secret' },
      settings: { handyrep: { postgres_superuser: 'postgres' } },
    });
    const console = new PsqlProxyConsole(kit.context);
    kit.shell.when(/SHOW DATABASES/, { exitCode: 0, stdout: `name${FIELD_SEPARATOR}port\nappdb${FIELD_SEPARATOR}5432\n` });
    assert.deepEqual(await console.admin('bouncer1', 'SHOW DATABASES', 2000), [{ name: 'appdb', port: '5432' }]);
    const sent = kit.shell.commands[0];
    assert.equal(sent?.server, 'bouncer1');
    assert.equal(sent?.input, `${PASSWORD}\n`);
    assert.ok(!sent?.command.includes(PASSWORD));
    assert.match(sent?.command ?? '', / -h \/run\/pgbouncer -p 6432 -U pgb_admin -d pgbouncer /);

    kit.shell.when(/PAUSE/, { exitCode: 124 });
    await assert.rejects(console.admin('bouncer1', 'PAUSE appdb', 1000), { code: 'HR_TIMEOUT' });
    kit.shell.when(/RELOAD/, { exitCode: 1, stderr: `psql: error: password authentication failed (${PASSWORD})` });
    await assert.rejects(console.admin('bouncer1', 'RELOAD', 1000), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HR_SQL');
      assert.ok(!err.message.includes(PASSWORD));
      assert.match(err.message, /password authentication failed \(\*\*\*\)/);
      return true;
    });

    kit.shell.when(/pg_is_in_recovery/, { exitCode: 0, stdout: 'in_recovery\nf\n' });
    assert.deepEqual(await console.probe('bouncer1', 'appdb', 1000), [{ in_recovery: 'f' }]);
    const probe = kit.shell.commands.at(-1);
    assert.equal(probe?.input, 'su-secret\n');
    assert.match(probe?.command ?? '', / -U postgres -d appdb /);
  });
});
