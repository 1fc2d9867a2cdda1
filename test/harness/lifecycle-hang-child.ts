// Test file run by lifecycle.test.ts under `node --test --test-timeout=N`: it
// builds a cluster, starts both observers and a child process of its own (a
// stand-in for a daemon a test starts), writes what it started to
// $LIFECYCLE_INFO, then hangs. The time-out must fail it and leave nothing.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { createCluster, descendants, listProcesses } from './index.js';

describe('a test that hangs', () => {
  after(() => {
    // node:test on Node 20 ends a timed-out file with SIGTERM: this never runs there; the harness cleans up.
  });

  it('never finishes', async () => {
    const c = await createCluster({ replicas: 1, label: 'hang' });
    const writer = await c.startWriter({ intervalMs: 20 });
    const watcher = await c.startSplitBrainWatcher();
    const daemon = spawn('sleep', ['3600'], { stdio: 'ignore', cwd: '/' });
    const all = listProcesses();
    const pids = new Set([...c.knownPids(), writer.pid, watcher.pid, daemon.pid ?? 0]);
    for (const p of [...pids]) for (const d of descendants(p, all)) pids.add(d.pid);
    pids.delete(0);
    writeFileSync(
      process.env.LIFECYCLE_INFO ?? '/dev/null',
      JSON.stringify({ baseDir: c.baseDir, slotDir: c.slot.dir, pids: [...pids], observers: [writer.pid, watcher.pid], daemon: daemon.pid }),
    );
    await new Promise(() => setInterval(() => {}, 1_000));
  });
});
