import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { shellJoin } from '@handyrep/plugin-sdk';
import { testServer } from '@handyrep/plugin-sdk/testing';
import { reloadArgv, startArgv, startScript, statusArgv, statusScript, stopArgv } from './pg-ctl-command.js';
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

/**
 * A process named `postgres` (a symlink to sleep) whose parent, a Perl one-liner,
 * does not reap it until its stdin closes: with `seconds` 0 it is a zombie at
 * once, as a SIGKILLed postmaster is under a parent that does not reap.
 */
async function unreapedPostgres(seconds: number): Promise<{ pid: number; release: () => void }> {
  const link = join(scratch, 'named', 'postgres');
  if (!existsSync(link)) {
    mkdirSync(join(scratch, 'named'), { recursive: true });
    symlinkSync(spawnSync('/bin/sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim(), link);
  }
  const holder: ChildProcess = spawn('/usr/bin/perl', ['-e', '$| = 1; my $p = fork(); if (!$p) { exec { $ARGV[0] } $ARGV[0], $ARGV[1]; exit 127 } print "$p\\n"; <STDIN>; waitpid($p, 0);', link, String(seconds)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const pid = await new Promise<number>((resolve) => holder.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  // A zombie shows as such once the child has exited.
  for (let i = 0; i < 100 && seconds === 0 && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 10));
  const release = (): void => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    holder.stdin?.end();
  };
  return { pid, release };
}

/** A data directory whose postmaster.pid names `pid`, and a pg_ctl stand-in exiting with `pgCtlExit`. */
function dataDirNaming(name: string, pid: number, pgCtlExit = 0): ReturnType<typeof pgCtlPaths> {
  const pgdata = join(scratch, name);
  mkdirSync(pgdata, { recursive: true });
  mkdirSync(join(pgdata, 'sock'), { recursive: true });
  writeFileSync(join(pgdata, 'postmaster.pid'), `${pid}\n${pgdata}\n1700000000\n5432\n${join(pgdata, 'sock')}\n127.0.0.1\n`);
  writeFileSync(join(pgdata, 'sock', '.s.PGSQL.5432.lock'), `${pid}\n${pgdata}\n`);
  return pgCtlPaths(server({ pgdata, pg_bin: fakePgBin(`${name}-bin`, pgCtlExit) }), 'log/pg.log');
}

describe('zombie-proof status and start, run by a real shell against real processes', () => {
  it('the status script adds the /proc state of the PID pg_ctl saw running: Z for a zombie, S for a live one, gone for none', async () => {
    const zombie = await unreapedPostgres(0);
    const live = await unreapedPostgres(30);
    try {
      const cases: [number, string][] = [[zombie.pid, 'Z'], [live.pid, 'S'], [4_000_000, 'gone']];
      for (const [pid, state] of cases) {
        const run = spawnSync('/bin/sh', ['-c', statusScript(dataDirNaming(`status-${state}`, pid))], { encoding: 'utf8' });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout.trim(), `handyrep-postmaster-state ${pid} ${state}`);
      }
      const stopped = spawnSync('/bin/sh', ['-c', statusScript(dataDirNaming('status-stopped', zombie.pid, 3))], { encoding: 'utf8' });
      assert.equal(stopped.status, 3, 'pg_ctl\'s exit code is kept');
      assert.equal(stopped.stdout, '', 'no /proc line when pg_ctl says not running');
    } finally {
      zombie.release();
      live.release();
    }
  });

  it('the start script removes postmaster.pid of a zombie postgres only, and says so', async () => {
    const zombie = await unreapedPostgres(0);
    const live = await unreapedPostgres(30);
    try {
      const zombieDir = dataDirNaming('start-zombie', zombie.pid);
      const run = spawnSync('/bin/sh', ['-c', startScript(zombieDir, 7)], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^handyrep-zombie-lock-removed ${zombie.pid}$`, 'm'));
      assert.equal(existsSync(join(zombieDir.pgdata, 'postmaster.pid')), false);
      assert.equal(existsSync(join(zombieDir.pgdata, 'sock', '.s.PGSQL.5432.lock')), false, 'the socket directory\'s lock file too');
      for (const [name, pid] of [['start-live', live.pid], ['start-gone', 4_000_000], ['start-own-shell', process.pid]] as const) {
        const paths = dataDirNaming(name, pid);
        const kept = spawnSync('/bin/sh', ['-c', startScript(paths, 7)], { encoding: 'utf8' });
        assert.equal(kept.status, 0, kept.stderr);
        assert.doesNotMatch(kept.stdout, /zombie-lock-removed/);
        assert.equal(existsSync(join(paths.pgdata, 'postmaster.pid')), true, `${name}: the lock file stays`);
        assert.equal(existsSync(join(paths.pgdata, 'sock', '.s.PGSQL.5432.lock')), true, `${name}: the socket lock file stays`);
      }
    } finally {
      zombie.release();
      live.release();
    }
  });
});
