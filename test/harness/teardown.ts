// Teardown: stops everything a cluster started, by PID, removes its iptables
// rules, its base directory and its slot. Also a synchronous emergency variant
// for process 'exit' handlers (no awaiting possible there).
import { spawnSync } from 'node:child_process';
import type { Cluster } from './cluster.js';
import { descendants, isAlive, listProcesses, readStat, signal, waitGone } from './proc.js';
import { removeContainersSync } from './docker.js';
import { findProcessesUnder, killProcessesUnder, removeAddressRules, removeBaseDir } from './slots.js';


export interface TeardownReport {
  /** Every PID the harness knew of when teardown began. */
  pids: number[];
  /** Those still alive (not zombies) at the end: should be empty. */
  survivors: number[];
  baseDir: string;
  errors: string[];
  ms: number;
}

export async function teardownCluster(c: Cluster): Promise<TeardownReport> {
  const started = Date.now();
  const errors: string[] = [];
  const debug = !!process.env.HARNESS_DEBUG;
  const step = async (what: string, fn: () => Promise<unknown>) => {
    const t0 = Date.now();
    try {
      await fn();
    } catch (err) {
      errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (debug) process.stderr.write(`harness teardown ${c.slot.addressPrefix}: ${what} ${Date.now() - t0} ms\n`);
  };
  const pids = new Set(c.knownPids());
  const all = listProcesses();
  for (const p of [...pids]) for (const d of descendants(p, all)) pids.add(d.pid);

  await step('observers', () => c.observers.stopAll());
  await step('iptables', () => c.faults.healAll());
  await step('iptables sweep', () => removeAddressRules(c.slot.addressPrefix));

  // PostgreSQL: wake hung processes, then immediate shutdown of every postmaster.
  const postmasters: number[] = [];
  for (const h of c.postgresHosts) {
    const st = c.hostState(h);
    for (const p of st.hungPids) signal(p, 'SIGCONT');
    st.hungPids = [];
    const pm = c.postmasterPid(h);
    const candidates = new Set<number>([...st.seenPostmasters].filter(([p, start]) => readStat(p)?.startTime === start).map(([p]) => p));
    if (pm) candidates.add(pm);
    for (const p of candidates) {
      if (!isAlive(p)) continue;
      for (const d of descendants(p)) signal(d.pid, 'SIGCONT');
      signal(p, 'SIGCONT');
      signal(p, 'SIGQUIT');
      postmasters.push(p);
    }
  }
  await step('postgres', async () => {
    const left = await waitGone(postmasters, 10_000);
    for (const p of left) {
      for (const d of descendants(p)) signal(d.pid, 'SIGKILL');
      signal(p, 'SIGKILL');
    }
    await waitGone(left, 5_000);
    // startUnreaped()'s parents reap their (now exited) postmasters, so no zombie outlives the cluster.
    await Promise.all(c.postgresHosts.map((h) => c.faults.reapUnreaped(h)));
  });

  await step('pgbouncer', () => Promise.all(c.pgbouncers.map((b) => c.hostState(b).pgbouncer?.stop('SIGTERM', 5_000))));
  // etcd's data is thrown away: no graceful leader hand-over (takes seconds with 3 members).
  await step('etcd', () => Promise.all(c.etcdProcs.map((e) => e.stop('SIGKILL', 2_000))));
  await step('sshd', () =>
    Promise.all(
      c.hosts.map(async (h) => {
        await c.faults.sshDown(h);
        await c.hostState(h).reaper?.close(10_000);
      }),
    ),
  );
  await step('launcher', () => c.launcher.dispose());
  await step('sweep', () => killProcessesUnder(c.baseDir));

  const survivors = await waitGone([...pids].filter((p) => p !== process.pid), 3_000);
  if (survivors.length > 0) errors.push(`still alive after teardown: ${survivors.join(', ')}`);
  await step('base dir', async () => removeBaseDir(c.baseDir));
  c.slot.release();
  const report = { pids: [...pids], survivors, baseDir: c.baseDir, errors, ms: Date.now() - started };
  if (errors.length > 0) process.stderr.write(`harness teardown of ${c.baseDir}: ${errors.join('; ')}\n`);
  return report;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Best-effort synchronous cleanup (process 'exit', second Ctrl-C). */
export function emergencyTeardownSync(c: Cluster): void {
  try {
    const pids = new Set<number>();
    try {
      for (const p of c.knownPids()) pids.add(p);
    } catch {
      /* keep going */
    }
    for (const p of findProcessesUnder(c.baseDir)) pids.add(p);
    const all = listProcesses();
    for (const p of [...pids]) for (const d of descendants(p, all)) pids.add(d.pid);
    pids.delete(process.pid);
    // postgres gets an immediate shutdown first (cleans its shared memory), then everything is killed.
    for (const p of pids) {
      signal(p, 'SIGCONT');
      signal(p, all.find((x) => x.pid === p)?.comm === 'postgres' ? 'SIGQUIT' : 'SIGKILL');
    }
    for (let i = 0; i < 20 && [...pids].some(isAlive); i++) sleepSync(50);
    for (const p of pids) if (isAlive(p)) signal(p, 'SIGKILL');
    for (const rule of c.iptablesRules) spawnSync('iptables', ['-w', '5', '-D', ...rule], { stdio: 'ignore', timeout: 10_000 });
    const listing = spawnSync('iptables', ['-w', '5', '-S'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
    for (const line of listing.split('\n')) {
      if (line.startsWith('-A ') && line.includes(`${c.slot.addressPrefix}.`)) {
        spawnSync('iptables', ['-w', '5', '-D', ...line.trim().split(/\s+/).slice(1)], { stdio: 'ignore', timeout: 10_000 });
      }
    }
    if (c.launcher.kind === 'docker') removeContainersSync(c.baseDir);
    removeBaseDir(c.baseDir);
    c.slot.release();
  } catch (err) {
    process.stderr.write(`harness emergency teardown of ${c.baseDir} failed: ${String(err)}\n`);
  }
}
