import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { shellJoin } from '@handyrep/plugin-sdk';
import { testServer } from '@handyrep/plugin-sdk/testing';
import { reloadArgv, startArgv, startScript, statusArgv, stopArgv } from './pg-ctl-command.js';
import { pgCtlPaths } from './server-paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'restart-pg-ctl-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A pg_ctl stand-in that writes each argument on its own line (NUL-free), so the test sees exactly what a shell passed. */
function fakePgBin(name: string, exitCode = 0, stderr = ''): string {
  const bin = join(scratch, name);
  mkdirSync(bin, { recursive: true });
  const script = `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "$(dirname "$0")/argv.txt"\ncat > "$(dirname "$0")/stdin.txt"\nprintf '%s' ${JSON.stringify(stderr)} >&2\nexit ${exitCode}\n`;
  writeFileSync(join(bin, 'pg_ctl'), script);
  chmodSync(join(bin, 'pg_ctl'), 0o755);
  return bin;
}

function server(over: Record<string, unknown>) {
  return testServer({ name: 'db1', pgdata: '/var/lib/postgresql/15/main', pg_bin: '/usr/lib/postgresql/15/bin', ...over });
}

describe('pg_ctl command lines', () => {
  const paths = pgCtlPaths(server({ pgconf: '/var/lib/postgresql/15/main' }), 'log/handyrep-pg_ctl.log');

  it('status, stop, reload use the server paths and wait settings', () => {
    assert.deepEqual(statusArgv(paths), ['/usr/lib/postgresql/15/bin/pg_ctl', 'status', '-D', '/var/lib/postgresql/15/main']);
    assert.deepEqual(stopArgv(paths, 'fast', 30), ['/usr/lib/postgresql/15/bin/pg_ctl', 'stop', '-D', '/var/lib/postgresql/15/main', '-m', 'fast', '-w', '-t', '30']);
    assert.deepEqual(stopArgv(paths, 'immediate', 5).slice(4, 6), ['-m', 'immediate']);
    assert.deepEqual(reloadArgv(paths), ['/usr/lib/postgresql/15/bin/pg_ctl', 'reload', '-D', '/var/lib/postgresql/15/main']);
  });

  it('start always passes -l (a relative log_file lives under pgdata) and no -o when pgconf is pgdata', () => {
    assert.deepEqual(startArgv(paths, 60), [
      '/usr/lib/postgresql/15/bin/pg_ctl', 'start', '-D', '/var/lib/postgresql/15/main',
      '-l', '/var/lib/postgresql/15/main/log/handyrep-pg_ctl.log', '-w', '-t', '60',
    ]);
    const absoluteLog = pgCtlPaths(server({}), '/var/log/postgresql/db1.log');
    assert.equal(absoluteLog.logFile, '/var/log/postgresql/db1.log');
    assert.equal(pgCtlPaths(server({ pgconf: '/var/lib/postgresql/15/main/' }), 'x.log').configFile, undefined);
  });

  it('a separate pgconf becomes -o "-c config_file=..." quoted for pg_ctl\'s own shell', () => {
    const split = pgCtlPaths(server({ pgconf: "/etc/postgresql/15/it's main" }), 'log/x.log');
    const argv = startArgv(split, 60);
    assert.deepEqual(argv.slice(-2), ['-o', `-c config_file='/etc/postgresql/15/it'\\''s main/postgresql.conf'`]);
    // What pg_ctl's /bin/sh makes of the -o text: exactly two words for postgres.
    const words = spawnSync('/bin/sh', ['-c', `for a in ${argv[argv.length - 1]}; do printf '%s\\n' "$a"; done`], { encoding: 'utf8' });
    assert.deepEqual(words.stdout.split('\n').filter(Boolean), ['-c', "config_file=/etc/postgresql/15/it's main/postgresql.conf"]);
  });

  it('the start script, run by a real shell, hands pg_ctl every path intact, creates the log directory and closes stdin', () => {
    const bin = fakePgBin("bin with 'quotes' & spaces; #");
    const pgdata = join(scratch, "data dir 'x' ;touch pwned #");
    mkdirSync(pgdata);
    const conf = join(scratch, 'conf dir (1)');
    const p = pgCtlPaths(server({ pgdata, pg_bin: bin, pgconf: conf }), 'log dir/handyrep.log');
    const run = spawnSync('/bin/sh', ['-c', startScript(p, 7)], { encoding: 'utf8', input: 'must not be read' });
    assert.equal(run.status, 0, run.stderr);
    const argv = readFileSync(join(bin, 'argv.txt'), 'utf8').split('\n').slice(0, -1);
    assert.deepEqual(argv, [
      'start', '-D', pgdata, '-l', join(pgdata, 'log dir', 'handyrep.log'), '-w', '-t', '7',
      '-o', `-c config_file='${conf}/postgresql.conf'`,
    ]);
    assert.ok(existsSync(join(pgdata, 'log dir')), 'log directory created');
    assert.equal(readFileSync(join(bin, 'stdin.txt'), 'utf8'), '', 'pg_ctl reads /dev/null, not the channel');
    assert.ok(!existsSync(join(process.cwd(), 'pwned')) && !existsSync('pwned'));
  });

  it('a failed start appends the last FATAL/PANIC lines of the log to stderr and keeps the exit code', () => {
    const bin = fakePgBin('failing', 1, 'pg_ctl: could not start server\nExamine the log output.\n');
    const pgdata = join(scratch, 'data-failing');
    mkdirSync(join(pgdata, 'log'), { recursive: true });
    writeFileSync(join(pgdata, 'log', 'pg.log'), 'LOG:  starting\nFATAL:  could not bind IPv4 address\nLOG:  database system is shut down\n');
    const p = pgCtlPaths(server({ pgdata, pg_bin: bin }), 'log/pg.log');
    const run = spawnSync('/bin/sh', ['-c', startScript(p, 7)], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /could not start server[\s\S]*FATAL:  could not bind IPv4 address/);
    assert.doesNotMatch(run.stderr, /database system is shut down/);
  });

  it('refuses paths pg_ctl would hand to /bin/sh unescaped, and relative or missing paths', () => {
    for (const pgdata of ['/srv/$(touch /tmp/x)', '/srv/a"b', '/srv/`id`', '/srv/a\\b', '/srv/a\nb']) {
      assert.throws(() => pgCtlPaths(server({ pgdata }), 'log/x.log'), { code: 'HR_BAD_ARGUMENT' }, pgdata);
    }
    assert.throws(() => pgCtlPaths(server({ pg_bin: '/opt/$HOME/bin' }), 'log/x.log'), /pg_bin/);
    assert.throws(() => pgCtlPaths(server({ pgconf: '/etc/$x' }), 'log/x.log'), /pgconf/);
    assert.throws(() => pgCtlPaths(server({}), '/var/log/$x.log'), /log_file/);
    assert.throws(() => pgCtlPaths(server({ pgdata: 'data' }), 'x.log'), /absolute/);
    assert.throws(() => pgCtlPaths(server({ pgdata: '' }), 'x.log'), /pgdata/);
    assert.throws(() => pgCtlPaths(testServer({ name: 'db1', pgdata: '/d' }), 'x.log'), /pg_bin/);
    // Single quotes, spaces and semicolons are inert inside pg_ctl's double quotes and are quoted by HandyRep.
    const fine = pgCtlPaths(server({ pgdata: "/srv/it's ; a dir" }), 'x.log');
    assert.ok(shellJoin(statusArgv(fine)).endsWith(` -D '/srv/it'\\''s ; a dir'`), shellJoin(statusArgv(fine)));
  });
});
