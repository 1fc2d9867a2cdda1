// Self-test of the harness lifecycle: concurrent clusters get separate slots
// (one with a 3-member etcd), SIGINT tears a cluster down, a test file that
// hangs is failed by the test runner's time-out and leaves nothing behind, and
// a SIGKILLed owner's leftovers are removed by the next process that claims a slot.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createCluster, isAlive, run, waitGone } from './index.js';

const CHILD = fileURLToPath(new URL('./lifecycle-child.js', import.meta.url));
const HANG_CHILD = fileURLToPath(new URL('./lifecycle-hang-child.js', import.meta.url));

interface ChildInfo {
  baseDir: string;
  slot: number;
  slotDir: string;
  pids: number[];
}

function startChild(): Promise<{ child: ReturnType<typeof spawn>; info: ChildInfo; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, info: JSON.parse(line) as ChildInfo, exited }));
    void exited.then((code) => reject(new Error(`child exited early (${code})`)));
  });
}

async function rulesFor(slot: number): Promise<string[]> {
  const out = (await run('iptables', ['-S'])).stdout;
  return out.split('\n').filter((l) => l.includes(`127.77.${slot}.`));
}

describe('harness lifecycle', { timeout: 240_000 }, () => {
  it('two clusters at once get separate slots; a 3-member etcd answers; a spare host takes a clone', async () => {
    const [a, b] = await Promise.all([createCluster({ replicas: 0, etcdMembers: 3 }), createCluster({ replicas: 1, spares: 1 })]);
    try {
      assert.notEqual(a.slot.n, b.slot.n);
      assert.notEqual(a.master.address, b.master.address);
      const health = await a.etcdctl(['endpoint', 'health']);
      assert.equal((health.stdout + health.stderr).match(/is healthy/g)?.length, 3);
      await b.waitStreaming();
      // The spare: sshd up, no PostgreSQL; a clone into its pgdata listens on its own address (host.conf).
      const spare = b.host('pg3');
      assert.equal(spare.initialRole, 'spare');
      assert.equal(b.isPostgresRunning(spare), false);
      await b.ssh(spare, `test ! -e ${spare.pgdata} && test -w ${spare.dir}`);
      await b.cloneReplica(spare, b.host('pg2'));
      await b.faults.start(spare);
      await b.waitStreaming([spare], 'pg2');
      const addr = await b.query<{ a: string }>(spare, "SELECT current_setting('listen_addresses') a");
      assert.equal(addr[0]!.a, spare.address);
      assert.equal((await a.query<{ x: number }>('pg1', 'SELECT 1 x'))[0]!.x, 1);
    } finally {
      await Promise.all([a.teardown(), b.teardown()]);
    }
  });

  it('SIGINT: the process tears its cluster down and exits', async () => {
    const { child, info, exited } = await startChild();
    assert.equal((await rulesFor(info.slot)).length, 2);
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    const left = info.pids.filter((p) => existsSync(`/proc/${p}`));
    assert.deepEqual(left, []);
    assert.deepEqual(await rulesFor(info.slot), []);
    assert.equal(existsSync(info.baseDir), false);
    assert.equal(existsSync(info.slotDir), false);
  });

  it('a test file that hangs: `node --test --test-timeout` fails it; its cluster, observers and child processes are gone', async () => {
    const infoFile = join(tmpdir(), `harness-lifecycle-hang-${process.pid}.json`);
    rmSync(infoFile, { force: true });
    const timeoutMs = 20_000;
    const started = Date.now();
    const child = spawn(process.execPath, ['--test', `--test-timeout=${timeoutMs}`, '--test-reporter=tap', HANG_CHILD], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Without the variable node:test sets in the files it runs, which would make this a nested run.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), LIFECYCLE_INFO: infoFile },
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const elapsed = Date.now() - started;
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`timed out after ${timeoutMs}ms`), output);
    // The harness's teardown (at most 30 s) runs inside that time.
    assert.ok(elapsed < timeoutMs + 40_000, `the file ended ${elapsed} ms after it started`);
    assert.ok(existsSync(infoFile), `the hanging test wrote what it started before the time-out: ${output}`);
    const info = JSON.parse(readFileSync(infoFile, 'utf8')) as ChildInfo & { observers: number[]; daemon: number };
    rmSync(infoFile, { force: true });
    assert.ok(info.pids.includes(info.daemon) && info.observers.every((p) => info.pids.includes(p)));
    assert.deepEqual(await waitGone(info.pids, 5_000), [], 'postgres, sshd, observers and the test\'s own child are gone');
    assert.equal(existsSync(info.baseDir), false);
    assert.equal(existsSync(info.slotDir), false);
  });

  it("SIGKILL: the next cluster's slot claim removes the dead owner's processes, rules and files", async () => {
    const { child, info, exited } = await startChild();
    child.kill('SIGKILL');
    await exited;
    // Killed without a chance to clean up: its postgres and rules are still there.
    assert.ok(info.pids.some(isAlive));
    assert.equal((await rulesFor(info.slot)).length, 2);
    const c = await createCluster({ replicas: 0 });
    try {
      // (zombies re-parented to pid 1 cannot be reaped here; they count as gone)
      assert.deepEqual(await waitGone(info.pids, 5000), []);
      assert.deepEqual(await rulesFor(info.slot), []);
      assert.equal(existsSync(info.baseDir), false);
    } finally {
      await c.teardown();
    }
  });
});
