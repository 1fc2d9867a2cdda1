// `npm run bench`: every benchmark of issue #8, printed as tables and written
// to bench-results/bench-<time>.json (+ latest.json and latest.md).
//
//   1. failover times (test/bench/failover-bench.ts), both profiles, a planned switchover
//   2. pollAll scaling over 1, 10, 50, 100 definitions (poll-scaling.ts: fresh connections against raw
//      start-up exchanges; held-poll-bench.ts: poll_held vs poll_isready vs poll_connect vs a bare pg
//      client on held connections, the floor)
//   3. get_status latency through the daemon under load, side by side with a bare node:http server
//      serving the same bytes (daemon-bench.ts)
//   4. the daemon's RSS and CPU while idle-polling 10 servers, and its RSS peak under the load (daemon-bench.ts)
//   5. commit latency with synchronous_mode off and quorum (commit-latency.ts)
//
// Options:
//   --full            the complete failover matrix: 5 runs of every fault with both profiles
//   --quick           1 run of everything, 15 s footprint, 5 s per API level and per commit-latency row (a smoke test)
//   --runs N          runs of every failover case (overrides the plan)
//   --switchover N    runs of the planned switchover (default: the plan's, or --runs; 0 skips it)
//   --only LIST       failover,poll,api,footprint,latency (api and footprint share one daemon run)
//   --profiles LIST   fast,defaults
//   --faults LIST     host_lost,crash_restart,crash_zombie,hung,partition_abort,partition_failover,blip,handyrep_partition,silent_loss,silent_loss_failover
//   --sync LIST       [failover] synchronous_mode values (off,quorum,quorum_strict) to run every selected fault with
//                     (default: off and quorum for silent_loss, off for the others), and to measure commit
//                     latency with (off always included as the baseline; default off,quorum)
//   --jitter          a random wait before each fault, up to one verification period (poll_interval ×
//                     verify_frequency: fast ≤ 5 s, defaults ≤ 60 s), so the runs sample every phase of the
//                     daemon's check and verify cadence (without it each fault lands at about the same phase)
//   --latency-fsync on|off   fsync of the commit-latency clusters (default on; the failover clusters run with
//                     the harness default, off)
//   --update-docs     also replace the figures in docs/performance.md
//   --render FILE     print (and with --update-docs, copy) the tables of an earlier result file; runs nothing
// Figures are printed, never asserted. Needs root (the test harness).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setSignalTeardown, liveClusters } from '../harness/index.js';
import {
  fmtCount,
  fmtSeconds,
  machineInfo,
  otherHarnessClusters,
  PROFILES,
  REPO_ROOT,
  RESULTS_DIR,
  SYNC_MODES,
  type MachineInfo,
  type ProfileName,
  type Summary,
  type SyncMode,
} from './bench-support.js';
import { runCommitLatency, type CommitLatencyResult } from './commit-latency.js';
import { runDaemonBench, type DaemonBenchResult } from './daemon-bench.js';
import {
  defaultSyncModes,
  FAULT_NAMES,
  FAULTS,
  runCase,
  runSwitchover,
  SILENT_LOSS_FAULTS,
  summarizeCase,
  summarizeSwitchover,
  type FailoverCaseSummary,
  type FailoverRun,
  type FaultName,
  type SwitchoverRun,
  type SwitchoverSummary,
} from './failover-bench.js';
import { FLOOR, heldPollTable, runHeldPollBench, type HeldPollResult } from './held-poll-bench.js';
import { runPollScaling, type PollScalingResult } from './poll-scaling.js';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    switchover: { type: 'string' },
    only: { type: 'string' },
    profiles: { type: 'string' },
    faults: { type: 'string' },
    sync: { type: 'string' },
    jitter: { type: 'boolean', default: false },
    'latency-fsync': { type: 'string', default: 'on' },
    'update-docs': { type: 'boolean', default: false },
    render: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}
if (values.render) {
  const earlier = JSON.parse(readFileSync(values.render, 'utf8')) as Results;
  earlier.goals = evaluateGoals(earlier, Object.keys(earlier.profiles ?? PROFILES) as ProfileName[]);
  const md = renderMarkdown(earlier, Object.keys(earlier.profiles ?? PROFILES) as ProfileName[]);
  console.log(md);
  if (values['update-docs']) {
    updateDocs(md);
    console.log('docs/performance.md updated');
  }
  process.exit(0);
}
if (process.getuid?.() !== 0) {
  console.error('npm run bench needs root: it builds real clusters with the test harness (PostgreSQL, sshd, pgbouncer, iptables on 127.x addresses).');
  process.exit(1);
}

const only = new Set((values.only ?? 'failover,poll,api,footprint,latency').split(',').map((s) => s.trim()));
const profiles = (values.profiles ?? 'fast,defaults').split(',').map((s) => s.trim()) as ProfileName[];
const faults = (values.faults ?? FAULT_NAMES.join(',')).split(',').map((s) => s.trim()) as FaultName[];
const syncModes = values.sync === undefined ? undefined : (values.sync.split(',').map((s) => s.trim()) as SyncMode[]);
for (const p of profiles) if (!PROFILES[p]) throw new Error(`unknown profile ${p}`);
for (const f of faults) if (!FAULTS[f]) throw new Error(`unknown fault ${f}; one of ${FAULT_NAMES.join(', ')}`);
for (const m of syncModes ?? []) if (!SYNC_MODES.includes(m)) throw new Error(`unknown synchronous_mode ${m}; one of ${SYNC_MODES.join(', ')}`);
if (!['on', 'off'].includes(values['latency-fsync'])) throw new Error(`--latency-fsync on or off, not ${values['latency-fsync']}`);
/** The synchronous modes a fault runs with: --sync, else the fault's own (off, and quorum for silent_loss). */
const syncModesFor = (fault: FaultName): SyncMode[] => syncModes ?? defaultSyncModes(fault);
/** Commit latency: off (the baseline) next to every other mode asked for. */
const latencyModes: SyncMode[] = [...new Set<SyncMode>(['off', ...(syncModes ?? ['quorum'])])];
const mode = values.full ? 'full' : values.quick ? 'quick' : 'default';

/**
 * Runs per case. Default (~22 min on 2 cores): the fast profile 5 runs of
 * host lost, crash and hung, 3 of the two partitions (each waits out ~20 s
 * of SSH time-outs), of the two no-failover cases (each watches ~10 s) and
 * of each silent host loss case;
 * the defaults profile 5 runs of the event-driven faults (host lost, crash)
 * and 1 of each case that waits out its ~27 s window. --full: 5 of everything.
 */
function runsFor(profile: ProfileName, fault: FaultName): number {
  // The zombie crash (issue 17) measures the restart path, which the profile does not change: fast only, a fresh cluster per run.
  if (fault === 'crash_zombie' && profile !== 'fast' && !values.faults) return 0;
  if (values.runs) return Number(values.runs);
  if (mode === 'quick') return 1;
  if (mode === 'full') return 5;
  if (profile === 'fast') return ['crash_zombie', 'partition_abort', 'partition_failover', 'blip', 'handyrep_partition', ...SILENT_LOSS_FAULTS].includes(fault) ? 3 : 5;
  return FAULTS[fault].windowBound ? 1 : 5;
}
const switchoverRuns = values.switchover !== undefined ? Number(values.switchover) : values.runs ? Number(values.runs) : mode === 'quick' ? 1 : 5;

// The harness tears clusters down on SIGINT/SIGTERM itself; keep that.
setSignalTeardown(true);

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const machine: MachineInfo = machineInfo();
console.log(`HandyRep benchmarks (${mode}) on ${machine.nproc} × ${machine.cpu_model}, ${machine.memory_gib} GiB, Linux ${machine.kernel}, Node ${machine.node}, ${machine.postgresql}`);
if (machine.other_harness_clusters_at_start > 0 || machine.load_average_at_start[0]! > 1) {
  console.log(`note: shared machine — load average ${machine.load_average_at_start.join(' ')}, ${machine.other_harness_clusters_at_start} other harness cluster slot(s) in use; figures will be noisy`);
}

interface Results {
  generated_at: string;
  mode: string;
  command: string;
  duration_s: number;
  machine: MachineInfo & { load_average_at_end: number[]; other_harness_clusters_at_end: number };
  profiles: typeof PROFILES;
  failover?: { cases: FailoverCaseSummary[]; runs: FailoverRun[]; switchover: SwitchoverSummary; switchover_runs: SwitchoverRun[] };
  poll_scaling?: PollScalingResult;
  held_poll?: HeldPollResult;
  daemon?: DaemonBenchResult;
  commit_latency?: CommitLatencyResult;
  goals: Goal[];
  /** Benchmarks that could not run, and why. */
  errors: string[];
}

interface Goal {
  goal: string;
  measured: string;
  /** met, not met, not measured, or a qualified form of them. */
  status: string;
}

const results: Partial<Results> = {};

const errors: string[] = [];
async function section(name: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    const message = `${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    errors.push(message);
    console.log(`ERROR ${message}`);
  }
}

await section('failover', async () => {
  if (!only.has('failover')) return;
  const cases: FailoverCaseSummary[] = [];
  const allRuns: FailoverRun[] = [];
  for (const profile of profiles) {
    for (const fault of faults) {
      for (const sync of syncModesFor(fault)) {
        const n = runsFor(profile, fault);
        if (n === 0) continue;
        console.log(`\n[${elapsed()}] failover: ${profile} profile · ${FAULTS[fault].label} · synchronous_mode ${sync} · ${n} run(s)`);
        const runs = await runCase({ profile, fault, sync, jitter: values.jitter, runs: n });
        allRuns.push(...runs);
        cases.push(summarizeCase(profile, fault, runs, sync));
      }
    }
  }
  if (switchoverRuns > 0) console.log(`\n[${elapsed()}] planned switchover (manual_failover pg1 → pg2 with remaster) · ${switchoverRuns} run(s)`);
  const swRuns = switchoverRuns > 0 ? await runSwitchover(switchoverRuns) : [];
  results.failover = { cases, runs: allRuns, switchover: summarizeSwitchover(swRuns), switchover_runs: swRuns };
});

await section('poll scaling', async () => {
  if (!only.has('poll')) return;
  console.log(`\n[${elapsed()}] poll scaling`);
  results.poll_scaling = await runPollScaling(mode === 'quick' ? 10 : 30);
});

await section('held poll scaling', async () => {
  if (!only.has('poll')) return;
  console.log(`\n[${elapsed()}] poll scaling on held connections: poll_held, poll_isready, poll_connect and the bare-client floor`);
  results.held_poll = await runHeldPollBench({ cycles: mode === 'quick' ? 10 : 30 });
});

await section('daemon', async () => {
  if (!only.has('api') && !only.has('footprint')) return;
  console.log(`\n[${elapsed()}] daemon footprint and get_status latency`);
  results.daemon = await runDaemonBench(mode === 'quick' ? { footprintS: 15, apiS: 5 } : { footprintS: 60, apiS: 10 });
});

await section('commit latency', async () => {
  if (!only.has('latency')) return;
  const durationS = mode === 'quick' ? 5 : 20;
  console.log(`\n[${elapsed()}] commit latency: synchronous_mode ${latencyModes.join(' vs ')}, ${durationS} s per row`);
  results.commit_latency = await runCommitLatency({ modes: latencyModes, durationS, fsync: values['latency-fsync'] !== 'off' });
});

const final: Results = {
  generated_at: new Date().toISOString(),
  mode,
  command: `node test/dist/bench/run-all.js ${process.argv.slice(2).join(' ')}`.trim(),
  duration_s: Math.round((Date.now() - started) / 1000),
  machine: { ...machine, load_average_at_end: loadavg().map((x) => Math.round(x * 100) / 100), other_harness_clusters_at_end: otherHarnessClusters() },
  profiles: PROFILES,
  ...results,
  goals: evaluateGoals(results, profiles),
  errors,
};

const markdown = renderMarkdown(final, profiles);
console.log(`\n${markdown}`);
mkdirSync(RESULTS_DIR, { recursive: true });
const stamp = final.generated_at.replace(/[:.]/g, '-');
const file = join(RESULTS_DIR, `bench-${stamp}.json`);
writeFileSync(file, `${JSON.stringify(final, null, 2)}\n`);
writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(final, null, 2)}\n`);
writeFileSync(join(RESULTS_DIR, 'latest.md'), markdown);
console.log(`results: ${file} (also bench-results/latest.json, latest.md); ${final.duration_s} s in all`);
if (values['update-docs']) {
  updateDocs(markdown);
  console.log('docs/performance.md updated');
}
if (liveClusters().length > 0) console.log(`warning: ${liveClusters().length} cluster(s) still up; tearing down at exit`);
if (errors.length > 0) process.exitCode = 1;

// ----- goals -------------------------------------------------------------------------------------

function caseOf(r: Partial<Results>, profile: ProfileName, fault: FaultName, sync: SyncMode = 'off'): FailoverCaseSummary | undefined {
  return r.failover?.cases.find((c) => c.profile === profile && c.fault === fault && (c.sync ?? 'off') === sync);
}

/** Silent host loss (issue 13): fenced by quorum within the window + 0.5 s, nothing acknowledged lost; without quorum, no promotion. */
function silentLossGoals(r: Partial<Results>, profile: ProfileName): Goal[] {
  const goals: Goal[] = [];
  const quorum = caseOf(r, profile, 'silent_loss', 'quorum');
  if (quorum) {
    const w = quorum.writable?.median ?? null;
    const limit = PROFILES[profile].window_s * 1000 + 500;
    const fenced = Object.entries(quorum.fenced_by ?? {}).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none';
    goals.push({
      goal: `silent host loss, synchronous_mode = quorum → writable ≤ window ${PROFILES[profile].window_s} s + 0.5 s, fenced by quorum (${profile})`,
      measured: w === null ? `no failover (${fenced})` : `median ${(w / 1000).toFixed(2)} s (n=${quorum.writable?.n}); fenced_by ${fenced}`,
      status: w === null ? 'not met' : w <= limit && (quorum.fenced_by?.['quorum'] ?? 0) === quorum.runs ? 'met' : 'not met',
    });
    goals.push({
      goal: `silent host loss, synchronous_mode = quorum → 0 acknowledged commits lost (${profile})`,
      measured: `${fmtCount(quorum.lost)} of ${fmtCount(quorum.acked ?? null)} acknowledged`,
      status: quorum.lost === null ? 'not measured' : quorum.lost.max === 0 ? 'met' : 'not met',
    });
  }
  const off = caseOf(r, profile, 'silent_loss', 'off');
  if (off) {
    goals.push({
      goal: `silent host loss, synchronous_mode = off, policy abort (default) → no promotion (${profile})`,
      measured: `${Object.entries(off.outcomes).map(([k, v]) => `${k} ×${v}`).join(', ')}; watched ${fmtSeconds(off.watched ?? null)}`,
      status: off.false_failovers === 0 && off.split_brain === 0 && (off.outcomes['no failover: policy abort'] ?? 0) === off.runs ? 'met' : 'not met',
    });
  }
  return goals;
}

function evaluateGoals(r: Partial<Results>, profiles: ProfileName[]): Goal[] {
  const goals: Goal[] = [];
  const s = (x: number): string => `${(x / 1000).toFixed(2)} s`;
  const med = (sum: Summary | null): number | null => sum?.median ?? null;
  for (const profile of profiles) {
    const p = PROFILES[profile];
    const hostLost = med(caseOf(r, profile, 'host_lost')?.writable ?? null);
    goals.push({
      goal: `host lost → writable new master ≤ 0.5 s median (${profile})`,
      measured: hostLost === null ? '–' : `median ${s(hostLost)}`,
      status: hostLost === null ? 'not measured' : hostLost <= 500 ? 'met' : 'not met',
    });
    for (const fault of ['hung', 'partition_failover'] as FaultName[]) {
      const c = caseOf(r, profile, fault);
      const w = med(c?.writable ?? null);
      const limit = p.window_s * 1000 + 500;
      goals.push({
        goal: `${fault === 'hung' ? 'hung' : 'partitioned (policy failover)'} → writable ≤ window ${p.window_s} s + 0.5 s (${profile})`,
        measured: w === null ? '–' : `median ${s(w)} (n=${c?.writable?.n})`,
        status: w === null ? 'not measured' : w <= limit ? 'met' : 'not met',
      });
    }
    const abort = caseOf(r, profile, 'partition_abort');
    if (abort) {
      goals.push({
        goal: `partitioned, policy abort (default) → no promotion while the old master may accept writes (${profile})`,
        measured: `${Object.entries(abort.outcomes).map(([k, v]) => `${k} ×${v}`).join(', ')}; decided after ${fmtSeconds(abort.decided)}`,
        status: abort.false_failovers === 0 && abort.split_brain === 0 && (abort.outcomes['no failover: policy abort'] ?? 0) === abort.runs ? 'met' : 'not met',
      });
    }
    const crash = med(caseOf(r, profile, 'crash_restart')?.writable ?? null);
    goals.push({
      goal: `crash with restart_master → writable again ≤ 1.5 s (${profile})`,
      measured: crash === null ? '–' : `median ${s(crash)}`,
      status: crash === null ? 'not measured' : crash <= 1500 ? 'met' : 'not met',
    });
    goals.push(...silentLossGoals(r, profile));
  }
  if (r.failover) {
    const ff = r.failover.cases.reduce((n, c) => n + c.false_failovers, 0);
    const sb = r.failover.cases.reduce((n, c) => n + c.split_brain, 0) + r.failover.switchover.split_brain;
    const runs = r.failover.runs.length + r.failover.switchover_runs.length;
    goals.push({ goal: '0 false failovers', measured: `${ff} in ${runs} runs`, status: ff === 0 ? 'met' : 'not met' });
    goals.push({ goal: '0 split-brain moments', measured: `${sb} in ${runs} runs`, status: sb === 0 ? 'met' : 'not met' });
  }
  const zombie = caseOf(r, 'fast', 'crash_zombie');
  if (zombie) {
    const w = med(zombie.writable);
    goals.push({
      goal: 'crash with the killed postmaster still a zombie, restart_master → restarted in place and writable ≤ 0.5 s (fast)',
      measured: w === null ? `${Object.entries(zombie.outcomes).map(([k, v]) => `${k} ×${v}`).join(', ')}` : `median ${s(w)}, max ${s(zombie.writable!.max)} (n=${zombie.writable!.n}); ${Object.entries(zombie.outcomes).map(([k, v]) => `${k} ×${v}`).join(', ')}`,
      status: w === null ? 'not met' : w <= 500 && zombie.false_failovers === 0 ? 'met' : 'not met',
    });
  }
  const held100 = r.held_poll?.rows.find((row) => row.definitions === 100);
  const held = held100?.figures['poll_held'];
  const floor = held100?.figures[FLOOR];
  goals.push({
    goal: 'pollAll(100) with poll_held ≤ 2× the bare held-client floor',
    measured: held && floor ? `${Math.round((held.median_ms / floor.median_ms) * 100) / 100}× (${held.median_ms} ms vs ${floor.median_ms} ms)` : '–',
    status: held && floor ? (held.median_ms <= 2 * floor.median_ms ? 'met' : 'not met') : 'not measured',
  });
  goals.push({
    goal: 'a poll cycle\'s CPU per server ≤ 0.2 ms (poll_held, 100 definitions)',
    measured: held ? `${Math.round((held.cpu_ms_per_cycle / 100) * 1000) / 1000} ms (${held.cpu_ms_per_cycle} ms per cycle)` : '–',
    status: held ? (held.cpu_ms_per_cycle / 100 <= 0.2 ? 'met' : 'not met') : 'not measured',
  });
  const apiRows = r.daemon?.api.rows ?? [];
  const at = (c: number): (typeof apiRows)[number] | undefined => apiRows.find((row) => row.concurrency === c);
  const at50 = at(50);
  goals.push({
    goal: 'get_status at 50 keep-alive connections ≥ 0.5× the bare node:http server\'s requests/s',
    measured: at50?.bare ? `${Math.round((at50.rps / at50.bare.rps) * 100) / 100}× (${at50.rps} vs ${at50.bare.rps} req/s)` : '–',
    status: at50?.bare ? (at50.rps >= 0.5 * at50.bare.rps ? 'met' : 'not met') : 'not measured',
  });
  const at10 = at(10);
  goals.push({
    goal: 'get_status p99 < 5 ms at 10 connections',
    measured: at10 ? `${at10.p99_ms} ms${at10.bare ? ` (bare node:http ${at10.bare.p99_ms} ms)` : ''}` : '–',
    status: at10 ? (at10.p99_ms < 5 ? 'met' : 'not met') : 'not measured',
  });
  // The goal is about the load balancers' load (paced), not about saturating the machine (the closed-loop rows).
  const healthRows = (r.daemon?.health?.rows ?? []).filter((row) => row.rate_per_s !== undefined);
  const worstHealth = healthRows.length ? healthRows.reduce((worst, row) => (row.p99_ms > worst.p99_ms ? row : worst)) : undefined;
  goals.push({
    goal: 'health endpoints (/health/master/<name>, /health/replica/<name>) p99 ≤ 1 ms at up to 2000 checks/s',
    measured: worstHealth ? `worst ${worstHealth.p99_ms} ms (${worstHealth.path}, ${worstHealth.rate_per_s} req/s over ${worstHealth.concurrency} conn.; bare node:http under the same load ${worstHealth.bare?.p99_ms ?? '–'} ms)` : '–',
    status: worstHealth ? (worstHealth.p99_ms <= 1 ? 'met' : 'not met') : 'not measured',
  });
  const fp = r.daemon?.footprint;
  goals.push({
    goal: 'daemon idle RSS < 80 MB (polling 10 servers every second)',
    measured: fp ? `${fp.rss_mb.min}–${fp.rss_mb.max} MB, median ${fp.rss_mb.median}` : '–',
    status: fp ? (fp.rss_mb.max < 80 ? 'met' : fp.rss_mb.median < 80 ? 'not met (median below, peaks above)' : 'not met') : 'not measured',
  });
  const peaks = apiRows.map((row) => row.daemon_rss_mb_peak ?? row.daemon_rss_mb_after);
  const peak = peaks.length ? Math.max(...peaks) : null;
  goals.push({
    goal: 'daemon peak RSS < 100 MB during the get_status load',
    measured: peak !== null ? `${peak} MB (${apiRows.map((row) => `${row.daemon_rss_mb_peak ?? row.daemon_rss_mb_after} MB at ${row.concurrency} conn.`).join(', ')})` : '–',
    status: peak !== null ? (peak < 100 ? 'met' : 'not met') : 'not measured',
  });
  return goals;
}

// ----- tables ---------------------------------------------------------------------------------------

function renderMarkdown(r: Results, profiles: ProfileName[]): string {
  const out: string[] = [];
  const m = r.machine;
  const shared = m.other_harness_clusters_at_start > 0 || m.load_average_at_start[0]! > 1 || m.load_average_at_end[0]! > 1;
  const args = r.command.replace(/^node test\/dist\/bench\/run-all\.js\s*/, '');
  out.push(`Run: \`npm run bench${args ? ` -- ${args}` : ''}\` (${r.mode}), ${r.generated_at.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(r.duration_s / 60)} min.`);
  out.push(`Machine: ${m.nproc} × ${m.cpu_model}, ${m.memory_gib} GiB, Linux ${m.kernel}, Node ${m.node}, ${m.postgresql}.`);
  out.push(
    shared
      ? `Shared machine: load average ${m.load_average_at_start.join(' ')} at the start and ${m.load_average_at_end.join(' ')} at the end; ${m.other_harness_clusters_at_start} other harness cluster(s) at the start. Figures are noisy.`
      : 'The machine was otherwise idle.',
  );
  out.push('');
  if (r.failover) {
    out.push('### Failover');
    out.push('');
    out.push('Times are seconds after the fault, min / median / max (n = runs with that figure). *noticed*: HandyRep\'s first log line about the master; *decided*: the failover_started alert (abort: the abort; others: the verdict); *writable*: first write accepted by the new (or restarted) master, probed every 20 ms; *via pgbouncer*: the writer (a commit every 20 ms through pgbouncer) succeeds again.');
    for (const profile of profiles) {
      const p = PROFILES[profile];
      const cases = r.failover.cases.filter((c) => c.profile === profile && !SILENT_LOSS_FAULTS.includes(c.fault));
      if (cases.length === 0) continue;
      out.push('');
      out.push(`**${profile} profile** (${p.description}; detection window ${p.window_s} s = poll_interval + fail_retries × fail_retry_interval + poll time-out)`);
      out.push('');
      out.push('| fault | outcome | noticed | decided | writable | via pgbouncer | commits lost | split-brain | false failovers |');
      out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const c of cases) {
        const outcome = Object.entries(c.outcomes).map(([k, v]) => `${k} ×${v}`).join(', ');
        const routed = c.expect === 'failover' || c.expect === 'restart';
        const label = (c.sync ?? 'off') === 'off' ? c.label : `${c.label}, synchronous_mode = ${c.sync}`;
        out.push(`| ${label} | ${outcome} | ${fmtSeconds(c.noticed)} | ${fmtSeconds(c.decided)} | ${routed ? fmtSeconds(c.writable) : '–'} | ${routed ? fmtSeconds(c.pgbouncer_writes) : `outage ${fmtSeconds(c.write_gap)}`} | ${fmtCount(c.lost)} | ${c.split_brain} | ${c.false_failovers} |`);
      }
    }
    out.push(...renderSilentLoss(r.failover.cases, profiles));
    const sw = r.failover.switchover;
    if (sw.runs > 0) out.push('', `**Planned switchover** (\`manual_failover\` pg1 → pg2 with remaster, fast profile, through the web API): call ${fmtSeconds(sw.call)}; new master writable ${fmtSeconds(sw.writable)} after the call started; longest pause of the pgbouncer writer ${fmtSeconds(sw.write_gap)}; commits lost ${fmtCount(sw.lost)}; split-brain ${sw.split_brain}.`);
    out.push('');
  }
  if (r.poll_scaling) {
    out.push('### Poll scaling');
    out.push('');
    out.push('| definitions | behind them | pollAll median (min–max) | p90 | ratio to 1 | CPU per cycle | raw exchanges, no HandyRep |');
    out.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const row of r.poll_scaling.rows) {
      out.push(`| ${row.definitions} | ${row.backing} | ${row.wall_ms.median} ms (${row.wall_ms.min}–${row.wall_ms.max}) | ${row.wall_p90_ms} ms | ${row.ratio_to_single}× | ${row.cpu_ms_per_cycle} ms | ${row.raw_exchange_ms} ms |`);
    }
    out.push('');
    const rp = r.poll_scaling.single_replica_poll_ms;
    out.push(`${r.poll_scaling.rows[0]?.cycles ?? 0} cycles each. pollAll over 1 definition is a poll of the master (one poll_isready exchange plus the SQL "is it in recovery" check); a replica poll alone (one exchange): median ${rp ? `${rp.median} ms` : '–'}.`);
    out.push('');
  }
  if (r.held_poll) {
    const h = r.held_poll;
    out.push('### Poll scaling on held connections');
    out.push('');
    out.push(`${h.method}. Load average ${h.load.start.map((x) => x.toFixed(2)).join(' ')} at the start, ${h.load.end.map((x) => x.toFixed(2)).join(' ')} at the end.`);
    out.push('');
    out.push(heldPollTable(h.rows, h.methods));
    out.push('');
  }
  if (r.daemon) {
    const fp = r.daemon.footprint;
    out.push('### get_status latency (daemon, cached status, HTTP Basic) next to a bare node:http server');
    out.push('');
    out.push(`Each level against the daemon, then the same load against a bare node:http server process serving the same ${r.daemon.api.body_bytes ?? '?'} bytes (no framework, no authentication): the floor on this machine, load generator included.`);
    out.push('');
    out.push('| connections | req/s | p50 | p90 | p99 | max | errors | daemon CPU | daemon RSS peak | bare req/s | bare p50 | bare p99 | daemon / bare req/s |');
    out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const row of r.daemon.api.rows) {
      const b = row.bare;
      out.push(
        `| ${row.concurrency} | ${row.rps} | ${row.p50_ms} ms | ${row.p90_ms} ms | ${row.p99_ms} ms | ${row.max_ms} ms | ${row.errors + row.non_200} | ${row.daemon_cpu_percent}% | ${row.daemon_rss_mb_peak ?? '–'} MB | ${b ? `${b.rps} | ${b.p50_ms} ms | ${b.p99_ms} ms | ${Math.round((row.rps / b.rps) * 100) / 100}×` : '– | – | – | –'} |`,
      );
    }
    out.push('');
    if (r.daemon.health) {
      out.push('### Health endpoints for load balancers (cached status, no credentials)');
      out.push('');
      out.push('| path | connections | load | req/s | p50 | p90 | p99 | max | errors | non-200 | bare p50 | bare p99 |');
      out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const row of r.daemon.health.rows) {
        const load = row.rate_per_s === undefined ? 'closed loop' : `paced ${row.rate_per_s} req/s`;
        out.push(`| \`${row.path}\` | ${row.concurrency} | ${load} | ${row.rps} | ${row.p50_ms} ms | ${row.p90_ms} ms | ${row.p99_ms} ms | ${row.max_ms} ms | ${row.errors} | ${row.non_200} | ${row.bare ? `${row.bare.p50_ms} ms | ${row.bare.p99_ms} ms` : '– | –'} |`);
      }
      out.push('');
    }
    out.push('### Footprint');
    out.push('');
    out.push(`Daemon idle-polling ${fp.definitions} definitions every second for ${fp.duration_s} s: RSS ${fp.rss_mb.min}–${fp.rss_mb.max} MB (median ${fp.rss_mb.median}; ${fp.rss_mb_at_start} at the start, ${fp.rss_mb_at_end} at the end, of which ${fp.rss_anon_mb_at_end} anonymous and ${fp.rss_file_mb_at_end} file-backed; an idle bare \`node\` process: ${fp.bare_node_rss_mb ?? '–'} MB); CPU ${fp.cpu_s} s = ${fp.cpu_percent}% of one core = ${fp.cpu_ms_per_cycle} ms per cycle.`);
    out.push('');
  }
  if (r.commit_latency) out.push(...renderCommitLatency(r.commit_latency));
  if (r.errors.length > 0) {
    out.push('### Errors');
    out.push('');
    for (const e of r.errors) out.push(`- ${e.split('\n')[0]}`);
    out.push('');
  }
  out.push('### Goals');
  out.push('');
  out.push('| goal | measured | status |');
  out.push('| --- | --- | --- |');
  for (const g of r.goals) out.push(`| ${g.goal} | ${g.measured} | ${g.status} |`);
  out.push('');
  return out.join('\n');
}

/** The silent host loss cases (issue 13), both synchronous modes, with how the old master was fenced. */
function renderSilentLoss(all: FailoverCaseSummary[], profiles: ProfileName[]): string[] {
  const cases = all.filter((c) => SILENT_LOSS_FAULTS.includes(c.fault) && profiles.includes(c.profile));
  if (cases.length === 0) return [];
  const out: string[] = ['', '**Silent host loss** (every packet to and from pg1 dropped by iptables, then its sshd and postgres SIGKILLed; the clock starts at the iptables call). *HandyRep writable_after*: its failover_started alert to its promote step\'s success, from its log; *fenced_by*: from its fence_old_master step; *no promotion within*: how long the bench watched a case that did not fail over before bringing pg1 back.', ''];
  out.push('| profile | synchronous_mode | unreachable_master_policy | outcome | noticed | decided | writable | HandyRep writable_after | fenced_by | via pgbouncer | no promotion within | commits lost (acknowledged) | split-brain | false failovers |');
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of cases) {
    const outcome = Object.entries(c.outcomes).map(([k, v]) => `${k} ×${v}`).join(', ');
    const fenced = Object.entries(c.fenced_by ?? {}).map(([k, v]) => `${k} ×${v}`).join(', ') || '–';
    const policy = c.fault === 'silent_loss_failover' ? 'failover' : 'abort (default)';
    const failedOver = c.expect === 'failover';
    out.push(
      `| ${c.profile} | ${c.sync ?? 'off'} | ${policy} | ${outcome} | ${fmtSeconds(c.noticed)} | ${fmtSeconds(c.decided)} | ${fmtSeconds(c.writable)} | ${fmtSeconds(c.handyrep_writable_after ?? null)} | ${fenced} | ${failedOver ? fmtSeconds(c.pgbouncer_writes) : '–'} | ${fmtSeconds(c.watched ?? null)} | ${fmtCount(c.lost)} (${fmtCount(c.acked ?? null)}) | ${c.split_brain} | ${c.false_failovers} |`,
    );
  }
  return out;
}

/** Commit latency percentiles, synchronous_mode off next to quorum. */
function renderCommitLatency(cl: CommitLatencyResult): string[] {
  const out: string[] = ['### Commit latency: synchronous_mode off vs quorum', ''];
  const fsync = [...new Set(cl.rows.map((row) => (row.fsync ? 'on' : 'off')))].join('/');
  out.push(`One writer in the bench process, one connection to the master pg1, single-row INSERTs committed back to back; ${cl.warmup_s} s warm-up, then ${cl.duration_s} s measured per row. A fresh cluster per synchronous_mode (fsync ${fsync}, the daemon running with the fast profile); with quorum the measurement starts once the master shows \`ANY k (...)\` and both standbys stream as quorum members. The *synchronous_commit = local* row is the same quorum cluster with the writer's session not waiting for a standby, alternating with the *on* row every 500 ms (a change of load hits both alike).`);
  out.push('');
  out.push('| synchronous_mode | synchronous_commit | synchronous_standby_names | commits/s | p50 | p95 | p99 | max | errors |');
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of cl.rows) {
    const names = row.standby_names ? `\`${row.standby_names}\`${row.standby_names_after !== row.standby_names ? ` (then \`${row.standby_names_after}\`)` : ''}` : '(empty)';
    out.push(`| ${row.sync} | ${row.synchronous_commit} | ${names} | ${row.commits_per_s} | ${row.p50_ms} ms | ${row.p95_ms} ms | ${row.p99_ms} ms | ${row.max_ms} ms | ${row.errors} |`);
  }
  out.push('');
  return out;
}

function updateDocs(markdown: string): void {
  const docs = join(REPO_ROOT, 'docs', 'performance.md');
  const text = readFileSync(docs, 'utf8');
  const begin = '<!-- bench-results:begin (written by npm run bench -- --update-docs) -->';
  const end = '<!-- bench-results:end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`docs/performance.md has no ${begin} … ${end} block`);
  writeFileSync(docs, `${text.slice(0, i + begin.length)}\n${markdown}\n${text.slice(j)}`);
}
