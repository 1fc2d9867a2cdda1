// Commit latency of [failover] synchronous_mode = quorum next to off (issue
// 13): on a healthy bench cluster (master pg1, replicas pg2 and pg3) with the
// HandyRep daemon running (fast profile), one writer in the bench process
// commits single-row INSERTs against pg1 back to back, on one connection, and
// times each commit. With quorum the measurement starts only once the master
// shows synchronous_standby_names = 'ANY 1 (...)' and both standbys stream as
// quorum members. On the quorum cluster the writer alternates (every 500 ms)
// between synchronous_commit = on and local in its session: the cost of the
// wait for a standby on the very same cluster, with load changes on a shared
// machine hitting both alike. One cluster at a time. Figures are printed,
// never asserted.
//
// Usage (after npm run build):
//   node test/dist/bench/commit-latency.js [--sync off,quorum] [--seconds 20] [--fsync on|off]
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Cluster } from '../harness/index.js';
import {
  benchCluster,
  mergeOverrides,
  percentile,
  PROFILES,
  sleep,
  standbyNames,
  startManagedDaemon,
  SYNC_MODES,
  syncOverrides,
  waitForSyncSet,
  type DaemonChild,
  type SyncMode,
} from './bench-support.js';

export interface CommitLatencyRow {
  sync: SyncMode;
  /** synchronous_commit of the writer's session: on (the default), or local (the control row). */
  synchronous_commit: 'on' | 'local';
  /** fsync of every server of the cluster. */
  fsync: boolean;
  /** The master's synchronous_standby_names before and after the measurement. */
  standby_names: string;
  standby_names_after: string;
  /** pg_stat_replication on the master before the measurement: application_name:sync_state. */
  sync_states: string[];
  commits: number;
  errors: number;
  duration_s: number;
  commits_per_s: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

export interface CommitLatencyResult {
  warmup_s: number;
  duration_s: number;
  rows: CommitLatencyRow[];
}

export interface CommitLatencyOptions {
  /** synchronous_mode values, each on its own cluster, in this order. */
  modes: SyncMode[];
  /** Measured seconds per row (after the warm-up). */
  durationS: number;
  warmupS?: number;
  /** fsync of the servers (default on: a commit's cost includes the flushes it waits for). */
  fsync?: boolean;
}

export async function runCommitLatency(opts: CommitLatencyOptions): Promise<CommitLatencyResult> {
  const warmupS = opts.warmupS ?? 2;
  const rows: CommitLatencyRow[] = [];
  for (const sync of opts.modes) {
    const measured = await measureMode(sync, opts.fsync ?? true, opts.durationS, warmupS);
    for (const row of measured) console.log(describeRow(row));
    rows.push(...measured);
  }
  return { warmup_s: warmupS, duration_s: opts.durationS, rows };
}

/** One cluster with this synchronous_mode: the writer with synchronous_commit on, and (not off) local as a control. */
async function measureMode(sync: SyncMode, fsync: boolean, durationS: number, warmupS: number): Promise<CommitLatencyRow[]> {
  const bc = await benchCluster(mergeOverrides(PROFILES.fast.overrides, syncOverrides(sync)), { fsync });
  let daemon: DaemonChild | undefined;
  try {
    daemon = await startManagedDaemon(bc);
    const { cluster } = bc;
    const master = cluster.master.name;
    if (sync !== 'off') await waitForSyncSet(cluster, master);
    const names = await standbyNames(cluster, master);
    const states = await cluster.query(master, "SELECT application_name || ':' || sync_state AS s FROM pg_stat_replication ORDER BY 1", [], { timeoutMs: 2000 });
    const settings: SynchronousCommit[] = sync === 'off' ? ['on'] : ['on', 'local'];
    const measured = await commitLoop(cluster, settings, warmupS * 1000, durationS * 1000);
    const after = await standbyNames(cluster, master);
    return settings.map((setting) => ({
      ...latencyFigures(measured.get(setting)!),
      sync,
      synchronous_commit: setting,
      fsync,
      standby_names: names,
      standby_names_after: after,
      sync_states: states.map((r) => String(r['s'])),
    }));
  } finally {
    await daemon?.stop().catch(() => undefined);
    await bc.cluster.teardown();
  }
}

type SynchronousCommit = 'on' | 'local';

/** What one synchronous_commit setting measured. */
interface Measured {
  latencies: number[];
  errors: number;
  /** Time spent measuring with this setting. */
  elapsedMs: number;
}

function latencyFigures(m: Measured): Pick<CommitLatencyRow, 'commits' | 'errors' | 'duration_s' | 'commits_per_s' | 'mean_ms' | 'p50_ms' | 'p95_ms' | 'p99_ms' | 'max_ms'> {
  const sorted = Float64Array.from(m.latencies).sort();
  const round = (ms: number): number => Math.round(ms * 1000) / 1000;
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN;
  return {
    commits: sorted.length,
    errors: m.errors,
    duration_s: round(m.elapsedMs / 1000),
    commits_per_s: Math.round(sorted.length / (m.elapsedMs / 1000)),
    mean_ms: round(mean),
    p50_ms: round(percentile(sorted, 50)),
    p95_ms: round(percentile(sorted, 95)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(percentile(sorted, 100)),
  };
}

/** Slices in which the settings alternate: a change of load on the shared machine hits them alike. */
const SLICE_MS = 500;

/**
 * Single-row INSERTs (each its own transaction) on one connection to the
 * master, back to back: `warmupMs` unmeasured, then `durationMs` per setting,
 * the settings taking turns every SLICE_MS (SET synchronous_commit between
 * slices); every commit's round trip timed by performance.now().
 */
async function commitLoop(cluster: Cluster, settings: SynchronousCommit[], warmupMs: number, durationMs: number): Promise<Map<SynchronousCommit, Measured>> {
  const client = new pg.Client({ ...cluster.target(cluster.master.name), application_name: 'bench-commit-latency', query_timeout: 10_000 } as pg.ClientConfig);
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('CREATE TABLE IF NOT EXISTS bench_commit_latency (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    const out = new Map(settings.map((setting) => [setting, { latencies: [], errors: 0, elapsedMs: 0 } as Measured]));
    const warmupEnd = performance.now() + warmupMs;
    await commitSlice(client, settings[0]!, warmupEnd);
    for (let slice = 0; slice < Math.ceil(durationMs / SLICE_MS) * settings.length; slice++) {
      const setting = settings[slice % settings.length]!;
      const start = performance.now();
      const m = out.get(setting)!;
      await commitSlice(client, setting, start + SLICE_MS, m);
      m.elapsedMs += performance.now() - start;
    }
    return out;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Commits until `endAt` with one synchronous_commit setting, into `into` (nothing recorded without: the warm-up). */
async function commitSlice(client: pg.Client, setting: SynchronousCommit, endAt: number, into?: Measured): Promise<void> {
  await client.query(`SET synchronous_commit = ${setting}`);
  const insert = { name: 'bench_commit', text: 'INSERT INTO bench_commit_latency DEFAULT VALUES' };
  while (performance.now() < endAt) {
    const t = performance.now();
    try {
      await client.query(insert);
      into?.latencies.push(performance.now() - t);
    } catch {
      if (into) into.errors += 1;
      await sleep(10);
    }
  }
}

export function describeRow(r: CommitLatencyRow): string {
  return `  synchronous_mode ${r.sync}, synchronous_commit ${r.synchronous_commit}, fsync ${r.fsync ? 'on' : 'off'} ('${r.standby_names}'; ${r.sync_states.join(', ')}): ${r.commits} commits in ${r.duration_s} s (${r.commits_per_s}/s), p50 ${r.p50_ms} ms, p95 ${r.p95_ms} ms, p99 ${r.p99_ms} ms, max ${r.max_ms} ms, mean ${r.mean_ms} ms, errors ${r.errors}${r.standby_names_after !== r.standby_names ? `; synchronous_standby_names changed to '${r.standby_names_after}'` : ''}`;
}

// ----- standalone ---------------------------------------------------------------------------------

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: {
      sync: { type: 'string', default: 'off,quorum' },
      seconds: { type: 'string', default: '20' },
      fsync: { type: 'string', default: 'on' },
    },
  });
  const modes = values.sync.split(',').map((s) => s.trim()) as SyncMode[];
  for (const m of modes) if (!SYNC_MODES.includes(m)) throw new Error(`unknown synchronous_mode ${m}; one of ${SYNC_MODES.join(', ')}`);
  const result = await runCommitLatency({ modes, durationS: Number(values.seconds), fsync: values.fsync !== 'off' });
  console.log(JSON.stringify(result.rows.map(({ sync, synchronous_commit, p50_ms, p95_ms, p99_ms }) => ({ sync, synchronous_commit, p50_ms, p95_ms, p99_ms }))));
}
