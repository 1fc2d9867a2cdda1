import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PgServer } from '@handyrep/plugin-sdk';
import { basebackupArgv, parseRewindCopied, parseSize, rewindArgv, toolScript } from './commands.js';
import type { CloneBasebackupConfig } from './config.js';
import { TEST_CONFIG } from './test-support/test-config.js';

const scratch = mkdtempSync(join(tmpdir(), 'clone-basebackup-cmd-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const CONFIG: CloneBasebackupConfig = TEST_CONFIG;
const PASSWORD = "s3cr'et $(touch /tmp/x) \\ pw";

function server(name: string, over: Partial<PgServer> = {}): PgServer {
  return { name, role: 'replica', hostname: `10.0.0.${name.slice(-1)}`, port: 5432, pgdata: '/var/lib/postgresql/15/main', configFile: undefined, pgBin: '/usr/lib/postgresql/15/bin', sshUser: 'postgres', sshPort: 22, ...over };
}

/** A tool stand-in that records its argv (one per line), PGPASSWORD, PGCONNECT_TIMEOUT and whether stdin was empty. */
function standIn(bin: string, tool: string, exitCode = 0): void {
  mkdirSync(bin, { recursive: true });
  const script = [
    '#!/bin/sh',
    'd=$(dirname "$0")',
    `for a in "$@"; do printf '%s\\n' "$a"; done > "$d/argv.txt"`,
    `printf '%s' "\${PGPASSWORD-<unset>}" > "$d/password.txt"`,
    `printf '%s' "$PGCONNECT_TIMEOUT" > "$d/connect-timeout.txt"`,
    'cat > "$d/stdin.txt"',
    `exit ${exitCode}`,
  ].join('\n');
  writeFileSync(join(bin, tool), `${script}\n`);
  chmodSync(join(bin, tool), 0o755);
}

describe('pg_basebackup and pg_rewind command lines', () => {
  it('pg_basebackup: target pgdata, source host and port, replication user, streamed WAL, fast checkpoint, never prompts', () => {
    assert.deepEqual(basebackupArgv(server('db3'), server('db1'), 'replicator', CONFIG), [
      '/usr/lib/postgresql/15/bin/pg_basebackup', '-D', '/var/lib/postgresql/15/main', '-h', '10.0.0.1', '-p', '5432', '-U', 'replicator',
      '-X', 'stream', '-c', 'fast', '-l', 'handyrep clone of db3 from db1', '-w',
    ]);
    assert.deepEqual(basebackupArgv(server('db3'), server('db1'), 'r', { ...CONFIG, checkpoint: 'spread', max_rate: '50M' }).slice(-7), [
      '-c', 'spread', '-l', 'handyrep clone of db3 from db1', '-w', '-r', '50M',
    ]);
  });

  it('pg_rewind: target pgdata, source conninfo, progress; restore-target-wal and a separate config file on request', () => {
    assert.deepEqual(rewindArgv(server('db1'), 'host=10.0.0.2 user=postgres', CONFIG), [
      '/usr/lib/postgresql/15/bin/pg_rewind', '--target-pgdata=/var/lib/postgresql/15/main', '--source-server=host=10.0.0.2 user=postgres', '--progress',
    ]);
    const argv = rewindArgv(server('db1', { configFile: '/etc/postgresql/15/main/postgresql.conf' }), 'host=x', { ...CONFIG, rewind_restore_target_wal: true });
    assert.deepEqual(argv.slice(-2), ['--restore-target-wal', '--config-file=/etc/postgresql/15/main/postgresql.conf']);
  });

  it('the tool script, run by a real shell, passes the password only through the environment and every argument intact', () => {
    const bin = join(scratch, "bin 'q' $(touch pwned)");
    standIn(bin, 'pg_basebackup');
    const target = server('db3', { pgBin: bin, pgdata: join(scratch, 'data "x" ; touch pwned #') });
    const argv = basebackupArgv(target, server('db1'), "repl'user", CONFIG);
    const script = toolScript('pg_basebackup', argv, { hasPassword: true, timeoutSeconds: 20, connectTimeoutSeconds: 7 });
    assert.ok(!script.includes(PASSWORD) && !script.includes('s3cr'), 'no password in the script');
    const run = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', input: PASSWORD, cwd: scratch });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(readFileSync(join(bin, 'argv.txt'), 'utf8').split('\n').slice(0, -1), argv.slice(1));
    assert.equal(readFileSync(join(bin, 'password.txt'), 'utf8'), PASSWORD);
    assert.equal(readFileSync(join(bin, 'connect-timeout.txt'), 'utf8'), '7');
    assert.equal(readFileSync(join(bin, 'stdin.txt'), 'utf8'), '', 'the tool reads /dev/null, not the password');
    assert.equal(existsSync(join(scratch, 'pwned')), false);
  });

  it('without a password PGPASSWORD is unset (an inherited one is not used) and stdin is not read', () => {
    const bin = join(scratch, 'nopw');
    standIn(bin, 'pg_rewind', 0);
    const script = toolScript('pg_rewind', [join(bin, 'pg_rewind'), '--progress'], { hasPassword: false, timeoutSeconds: 20, connectTimeoutSeconds: 5 });
    const run = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', input: '', env: { ...process.env, PGPASSWORD: 'inherited' } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(join(bin, 'password.txt'), 'utf8'), '<unset>');
  });

  it('the remote timeout kills an overrunning tool and exits 124; the tool\'s own exit code is kept', () => {
    const bin = join(scratch, 'slow');
    mkdirSync(bin);
    writeFileSync(join(bin, 'pg_basebackup'), '#!/bin/sh\nsleep 30\n');
    chmodSync(join(bin, 'pg_basebackup'), 0o755);
    const started = Date.now();
    const slow = spawnSync('/bin/sh', ['-c', toolScript('x', [join(bin, 'pg_basebackup')], { hasPassword: false, timeoutSeconds: 1, connectTimeoutSeconds: 1 })]);
    assert.equal(slow.status, 124);
    assert.ok(Date.now() - started < 10_000);
    const failing = join(scratch, 'failing');
    standIn(failing, 'pg_basebackup', 1);
    assert.equal(spawnSync('/bin/sh', ['-c', toolScript('x', [join(failing, 'pg_basebackup')], { hasPassword: false, timeoutSeconds: 5, connectTimeoutSeconds: 1 })]).status, 1);
  });

  it('parses du -sb and pg_rewind progress', () => {
    assert.equal(parseSize('31457280\t/var/lib/postgresql/15/main\n'), 31457280);
    assert.equal(parseSize('du: cannot access'), undefined);
    assert.equal(parseRewindCopied('pg_rewind: 0/1024 kB (0%) copied\npg_rewind: 52/52 kB (100%) copied\npg_rewind: Done!\n'), 52 * 1024);
    assert.equal(parseRewindCopied('pg_rewind: no rewind required'), undefined);
  });
});
