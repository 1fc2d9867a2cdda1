// Runs the kill script with the machine's /bin/sh against real local processes
// standing in for a postmaster: a shell whose argv[0] is "postgres", whose
// working directory is the data directory and which has children.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killPostmasterScript } from './kill-postmaster-script.js';
import { readKillReport } from './kill-postmaster.js';

const base = mkdtempSync(join(tmpdir(), 'fence-kill-'));
const started: ChildProcess[] = [];

after(() => {
  // Whatever a test left running, sleepers included: every descendant first, then the process.
  for (const child of started) if (child.pid !== undefined) for (const pid of [...treeOf(child.pid)].reverse()) signal(pid, 'SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** A data directory with a name that needs quoting. */
function dataDir(name: string): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The state letter of a process (Z zombie, T stopped), or undefined when it is gone. */
function stateOf(pid: number): string | undefined {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function gone(pid: number): boolean {
  const state = stateOf(pid);
  return state === undefined || state === 'Z' || state === 'X';
}

function parentOf(pid: string): string | undefined {
  try {
    return /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name) && parentOf(name) === String(pid) && !gone(Number(name)))
    .map(Number);
}

function argv0Of(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    return '';
  }
}

/** `pid` and all its live descendants, parents first. */
function treeOf(pid: number): number[] {
  return [pid, ...childrenOf(pid).flatMap(treeOf)];
}

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts a shell whose argv[0] is `name`, in `cwd`, that forks `children` sleepers and waits for them. */
async function fakeProcess(name: string, cwd: string, children = 1): Promise<number> {
  const child = spawn('bash', ['-c', `exec -a ${name} sh -c '${'sleep 300 & '.repeat(children)}wait'`], { cwd, stdio: 'ignore' });
  started.push(child);
  const pid = child.pid;
  assert.ok(pid !== undefined);
  await until(`${name} to start its children`, () => argv0Of(pid) === name && childrenOf(pid).length >= children);
  return pid;
}

/** Runs the script for `pgdata` with /bin/sh, as the plugin does over SSH. */
function runScript(pgdata: string): { stdout: string; outcome: string; status: number | null } {
  const result = spawnSync('/bin/sh', ['-c', killPostmasterScript(pgdata)], { encoding: 'utf8', timeout: 10_000 });
  const outcome = /^outcome (\S+)$/m.exec(result.stdout)?.[1] ?? `none (stderr: ${result.stderr})`;
  return { stdout: result.stdout, outcome, status: result.status };
}

describe('killPostmasterScript on real processes', () => {
  it('kills a SIGSTOPped postmaster and every child, and says so', async () => {
    const pgdata = dataDir('hung');
    const pid = await fakeProcess('/usr/lib/postgresql/15/bin/postgres', pgdata, 3);
    const children = childrenOf(pid);
    assert.equal(children.length, 3);
    writeFileSync(join(pgdata, 'postmaster.pid'), `${pid}\n${pgdata}\n1700000000\n5432\n`);
    for (const p of [pid, ...children]) signal(p, 'SIGSTOP');
    await until('the processes to stop', () => [pid, ...children].every((p) => stateOf(p) === 'T'));

    const run = runScript(pgdata);
    assert.equal(run.status, 0);
    assert.equal(run.outcome, 'killed', run.stdout);
    assert.match(run.stdout, /^state T$/m);
    assert.match(run.stdout, /^left $/m, 'nothing left after the wait');
    await until('all to be gone', () => [pid, ...children].every(gone));
    const report = readKillReport(run.stdout, run.status, '', pgdata);
    assert.equal(report.killed, true);
    assert.deepEqual(new Set(report.killedPids), new Set([pid, ...children]));
    assert.match(report.detail, /SIGKILLed the postmaster \(pid \d+, stopped, "\/usr\/lib\/postgresql\/15\/bin\/postgres" in .*hung\) and 3 descendant\(s\)/);
  });

  it('does not list a child that already is a zombie', async () => {
    const pgdata = dataDir('zombie');
    const child = spawn('bash', ['-c', `exec -a postgres sh -c 'sleep 300 & sleep 0.3 & wait'`], { cwd: pgdata, stdio: 'ignore' });
    started.push(child);
    const pid = child.pid ?? 0;
    await until('both children', () => childrenOf(pid).length === 2);
    const [first, second] = childrenOf(pid);
    signal(pid, 'SIGSTOP');
    // The stopped parent cannot reap the short sleeper once it exits.
    await until('a zombie child', () => stateOf(first ?? 0) === 'Z' || stateOf(second ?? 0) === 'Z');
    const zombie = stateOf(first ?? 0) === 'Z' ? first : second;
    writeFileSync(join(pgdata, 'postmaster.pid'), `${pid}\n`);
    const run = runScript(pgdata);
    assert.equal(run.outcome, 'killed', run.stdout);
    const report = readKillReport(run.stdout, run.status, '', pgdata);
    assert.equal(report.killedPids.length, 2, run.stdout);
    assert.ok(!report.killedPids.includes(zombie ?? 0), `zombie ${zombie} not listed: ${run.stdout}`);
  });

  it('kills grandchildren too', async () => {
    const pgdata = dataDir('tree');
    const child = spawn('bash', ['-c', `exec -a postgres sh -c 'sh -c "sleep 300 & wait" & wait'`], { cwd: pgdata, stdio: 'ignore' });
    started.push(child);
    const pid = child.pid ?? 0;
    await until('the grandchild', () => childrenOf(pid).some((c) => childrenOf(c).length > 0));
    const middle = childrenOf(pid)[0] ?? 0;
    const grandchild = childrenOf(middle)[0] ?? 0;
    writeFileSync(join(pgdata, 'postmaster.pid'), `${pid}\n`);
    assert.equal(runScript(pgdata).outcome, 'killed');
    await until('the whole tree to be gone', () => [pid, middle, grandchild].every(gone));
  });

  it('a data directory with quotes, spaces and shell syntax is one word', async () => {
    const marker = join(base, 'marker');
    const pgdata = dataDir(`it's a "dir" $(touch ${marker}) \`touch ${marker}\``);
    const pid = await fakeProcess('postgres', pgdata);
    writeFileSync(join(pgdata, 'postmaster.pid'), `${pid}\n`);
    assert.equal(runScript(pgdata).outcome, 'killed');
    await until('it to be gone', () => gone(pid));
    assert.equal(existsSync(marker), false, 'nothing in the path ran');
  });

  it('leaves a reused PID alone: another program, running and not stopped', async () => {
    const pgdata = dataDir('reused');
    const other = await fakeProcess('vim', pgdata);
    writeFileSync(join(pgdata, 'postmaster.pid'), `${other}\n`);
    const run = runScript(pgdata);
    assert.equal(run.outcome, 'not_postmaster', run.stdout);
    assert.match(run.stdout, /^argv0 vim$/m);
    assert.equal(gone(other), false);
    assert.notEqual(stateOf(other), 'T', 'not left stopped');
  });

  it('leaves alone a postgres of another data directory', async () => {
    const pgdata = dataDir('mine');
    const theirs = dataDir('theirs');
    const other = await fakeProcess('postgres', theirs);
    writeFileSync(join(pgdata, 'postmaster.pid'), `${other}\n`);
    const run = runScript(pgdata);
    assert.equal(run.outcome, 'other_data_dir', run.stdout);
    assert.equal(gone(other), false);
    assert.notEqual(stateOf(other), 'T');
    assert.match(readKillReport(run.stdout, 0, '', pgdata).detail, /another data directory \(.*theirs, not .*mine\): not killed/);
  });

  it('reports, and kills nothing, without a usable PID', async () => {
    assert.equal(runScript(dataDir('empty')).outcome, 'no_pid_file');
    assert.equal(runScript(join(base, 'no such dir')).outcome, 'no_pid_file');
    for (const [i, line] of ['abc', '-4242', '0', '007', '1', '', '12345678901', '42; kill -9 1'].entries()) {
      const pgdata = dataDir(`bad${i}`);
      writeFileSync(join(pgdata, 'postmaster.pid'), `${line}\n`);
      assert.equal(runScript(pgdata).outcome, 'bad_pid', JSON.stringify(line));
    }
    const exited = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    const pgdata = dataDir('dead');
    writeFileSync(join(pgdata, 'postmaster.pid'), `${exited}\n`);
    assert.equal(runScript(pgdata).outcome, 'not_running');
  });
});
