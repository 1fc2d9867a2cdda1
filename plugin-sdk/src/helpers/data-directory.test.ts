import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createTestContext } from '../testing/test-context.js';
import {
  dataDirectoryProbeScript as probeScript,
  emptyDataDirectoryScript as emptyScript,
  EMPTY_REFUSED_RUNNING,
  emptyDataDirectory,
  parseDataDirectoryProbe as parseProbe,
  probeDataDirectory,
} from './data-directory.js';

const scratch = mkdtempSync(join(tmpdir(), 'sdk-data-directory-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/** A copy of sleep named `postgres`, so its process looks like a postmaster in /proc/PID/comm. */
const fakePostgres = join(scratch, 'postgres');
copyFileSync('/bin/sleep', fakePostgres);

function sh(script: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', cwd: scratch });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function probe(path: string): ReturnType<typeof parseProbe> {
  const run = sh(probeScript(path));
  assert.equal(run.status, 0, run.stderr);
  return parseProbe(run.stdout);
}

function dataDir(name: string, files: Record<string, string> = {}): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return dir;
}

function startChild(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return child;
}

describe('data directory probe (run by a real /bin/sh)', () => {
  it('tells missing, empty, non-empty, not-a-directory apart and reads PG_VERSION', () => {
    assert.deepEqual(probe(join(scratch, 'nothing-here')), { directory: 'missing', postmasterPid: undefined, pgVersion: undefined });
    assert.equal(probe(dataDir('empty')).directory, 'empty');
    assert.deepEqual(probe(dataDir('full', { PG_VERSION: '15\n' })), { directory: 'nonempty', postmasterPid: undefined, pgVersion: '15' });
    writeFileSync(join(scratch, 'a-file'), 'x');
    assert.equal(probe(join(scratch, 'a-file')).directory, 'notdir');
    assert.equal(probe(dataDir('hidden-only', { '.keep': '' })).directory, 'nonempty');
  });

  it('follows a data directory that is a symlink', () => {
    const real = dataDir('real', { PG_VERSION: '15\n' });
    symlinkSync(real, join(scratch, 'link'));
    assert.equal(probe(join(scratch, 'link')).directory, 'nonempty');
  });

  it('a live postgres process named in postmaster.pid is running; a dead PID or another program is not', async () => {
    const child = startChild(fakePostgres, ['30']);
    assert.ok(child.pid);
    const dir = dataDir('running', { PG_VERSION: '15\n', 'postmaster.pid': `${child.pid}\n/some/dir\n` });
    assert.equal(probe(dir).postmasterPid, child.pid);
    const other = startChild('/bin/sleep', ['30']);
    writeFileSync(join(dir, 'postmaster.pid'), `${other.pid}\n`);
    assert.equal(probe(dir).postmasterPid, undefined, 'a reused PID of a non-postgres process');
    writeFileSync(join(dir, 'postmaster.pid'), '999999999\n');
    assert.equal(probe(dir).postmasterPid, undefined, 'dead PID');
    writeFileSync(join(dir, 'postmaster.pid'), 'garbage\n');
    assert.equal(probe(dir).postmasterPid, undefined, 'garbage');
  });

  it('a zombie postmaster (never reaped) is not running', async () => {
    // perl forks a child that execs the postgres stand-in, which exits at once; perl never reaps it.
    const parent = startChild('perl', ['-e', `$|=1; my $p = fork(); if (!$p) { exec {'${fakePostgres}'} 'postgres', '0'; } print "$p\\n"; sleep 30;`]);
    const pid = await new Promise<number>((resolve) => parent.stdout?.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim()))));
    for (let i = 0; i < 50 && !/\) Z /.test(spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).stdout); i++) await new Promise((r) => setTimeout(r, 20));
    const dir = dataDir('zombie', { 'postmaster.pid': `${pid}\n` });
    assert.equal(probe(dir).postmasterPid, undefined);
  });

  it('a path full of shell metacharacters is probed, never executed', () => {
    const marker = join(scratch, 'pwned');
    const weird = dataDir(`we'ird $(touch ${marker}) \`touch ${marker}\` ; touch ${marker} #`, { PG_VERSION: '15\n' });
    assert.equal(probe(weird).directory, 'nonempty');
    assert.equal(existsSync(marker), false);
  });

  it('rejects output that is not the probe\'s', () => {
    assert.throws(() => parseProbe('hello\n'), /unexpected probe output/);
  });
});

describe('emptying a data directory (run by a real /bin/sh)', () => {
  it('removes everything inside, keeps the directory, removes tablespace links without following them', () => {
    const elsewhere = dataDir('tablespace', { keep: 'me' });
    const dir = dataDir('to-empty', { PG_VERSION: '15\n', '.hidden': '' });
    mkdirSync(join(dir, 'base', '1'), { recursive: true });
    writeFileSync(join(dir, 'base', '1', '123'), 'x');
    mkdirSync(join(dir, 'pg_tblspc'));
    symlinkSync(elsewhere, join(dir, 'pg_tblspc', '16384'));
    const run = sh(emptyScript(dir));
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(readdirSync(dir), []);
    assert.ok(existsSync(join(elsewhere, 'keep')));
  });

  it('refuses (exit 3) and deletes nothing when a postmaster runs there', () => {
    const child = startChild(fakePostgres, ['30']);
    const dir = dataDir('live', { PG_VERSION: '15\n', 'postmaster.pid': `${child.pid}\n` });
    const run = sh(emptyScript(dir));
    assert.equal(run.status, EMPTY_REFUSED_RUNNING);
    assert.match(run.stderr, /a postmaster \(PID \d+\) runs on/);
    assert.ok(existsSync(join(dir, 'PG_VERSION')));
  });

  it('a missing directory is fine; a stale postmaster.pid does not block', () => {
    assert.equal(sh(emptyScript(join(scratch, 'never'))).status, 0);
    const dir = dataDir('stale', { 'postmaster.pid': '999999999\n', PG_VERSION: '15\n' });
    assert.equal(sh(emptyScript(dir)).status, 0);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('empties a path with shell metacharacters exactly, running nothing from it', () => {
    const marker = join(scratch, 'pwned2');
    const sibling = dataDir('sibling', { precious: 'x' });
    const weird = dataDir(`x $(rm -rf ${sibling}) ; touch ${marker}`, { PG_VERSION: '15\n' });
    assert.equal(sh(emptyScript(weird)).status, 0);
    assert.deepEqual(readdirSync(weird), []);
    assert.ok(existsSync(join(sibling, 'precious')));
    assert.equal(existsSync(marker), false);
  });
});

describe('probing and emptying over a RemoteShell', () => {
  const server = { name: 'db3', pgdata: '/srv/pg data' };

  it('runs the probe on the server and parses it; a failed probe throws REMOTE_COMMAND', async () => {
    const { context, shell } = createTestContext();
    shell.when(/probe-data-directory/, { stdout: 'state=nonempty\npid=42\npg_version=15\n' });
    assert.deepEqual(await probeDataDirectory(context, server, 1000), { directory: 'nonempty', postmasterPid: 42, pgVersion: '15' });
    assert.equal(shell.commands[0]?.server, 'db3');
    assert.equal(shell.commands[0]?.command, probeScript('/srv/pg data'));
    shell.when(/probe-data-directory/, { exitCode: 2, stderr: 'boom\n' });
    await assert.rejects(probeDataDirectory(context, server, 1000), { code: 'HR_REMOTE_COMMAND', message: 'probing /srv/pg data on db3 failed (exit 2): boom' });
  });

  it('reports what emptying did: emptied, refused because running, or failed', async () => {
    const { context, shell } = createTestContext();
    assert.deepEqual(await emptyDataDirectory(context, server, 1000), { emptied: true, running: false, exitCode: 0, stderr: '' });
    assert.equal(shell.commands[0]?.command, emptyScript('/srv/pg data'));
    shell.when(/empty-data-directory/, { exitCode: EMPTY_REFUSED_RUNNING, stderr: 'a postmaster runs\n' });
    assert.deepEqual(await emptyDataDirectory(context, server, 1000), { emptied: false, running: true, exitCode: 3, stderr: 'a postmaster runs' });
    shell.when(/empty-data-directory/, { exitCode: 1, stderr: 'rm: denied' });
    assert.deepEqual(await emptyDataDirectory(context, server, 1000), { emptied: false, running: false, exitCode: 1, stderr: 'rm: denied' });
  });
});
