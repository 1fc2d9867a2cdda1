// Failover benchmark: a harness cluster (master pg1, replicas pg2 and pg3,
// pgbouncer bouncer1 managed by multi_pgbouncer), the HandyRep daemon as a
// child process (`handyrep daemon`), a writer committing through pgbouncer
// every 20 ms, a split-brain watcher and a write prober on every server.
// Each fault is injected and timed against the daemon's own log, with
// [failover] synchronous_mode off (the default) or quorum (issue 13).
//
// Usage (after npm run build):
//   node test/dist/bench/failover-bench.js [--profile fast|defaults] [--fault NAME[,NAME]] [--sync off|quorum|quorum_strict] [--jitter] [--runs N] [--switchover N]
//
// --jitter: a random wait (up to one verification period, poll_interval ×
// verify_frequency) before each fault. Without it the fault lands at nearly the
// same moment of the daemon's check and verify cadence in every run (the set-up
// takes about as long each time), so the runs do not sample that phase.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Ack, ConfOverrides, SplitBrainWatcher, Writer } from '../harness/index.js';
import {
  allHealthy,
  api,
  benchCluster,
  fmtCount,
  fmtSeconds,
  mergeOverrides,
  PROFILES,
  readLogFile,
  sleep,
  startManagedDaemon,
  summarize,
  SYNC_MODES,
  syncOverrides,
  waitForSyncSet,
  waitUntil,
  WriteProber,
  type BenchCluster,
  type DaemonChild,
  type LogEntry,
  type Profile,
  type ProfileName,
  type StatusView,
  type Summary,
  type SyncMode,
} from './bench-support.js';

export type FaultName =
  | 'host_lost'
  | 'crash_restart'
  | 'crash_zombie'
  | 'hung'
  | 'partition_abort'
  | 'partition_failover'
  | 'blip'
  | 'handyrep_partition'
  | 'silent_loss'
  | 'silent_loss_failover';

export const FAULT_NAMES: FaultName[] = ['host_lost', 'crash_restart', 'crash_zombie', 'hung', 'partition_abort', 'partition_failover', 'blip', 'handyrep_partition', 'silent_loss', 'silent_loss_failover'];

/** The silent host loss faults (issue 13): partition, then sshd and postgres killed. */
export const SILENT_LOSS_FAULTS: FaultName[] = ['silent_loss', 'silent_loss_failover'];

/** What HandyRep is expected to do. */
export type Expectation = 'failover' | 'restart' | 'abort' | 'no_failover';

interface FaultSpec {
  name: FaultName;
  label: string;
  /** What HandyRep is expected to do with synchronous_mode = off. */
  expect: Expectation;
  /** What it is expected to do with another synchronous_mode, where that differs (a silent master is fenced by quorum). */
  expectWith?: Partial<Record<SyncMode, Expectation>>;
  /** The synchronous modes the plan runs this fault with (default: off only). */
  sync?: SyncMode[];
  /** Config beyond the profile. */
  extra: ConfOverrides;
  /** Trials can follow each other on one cluster (the topology is unchanged afterwards; never when a failover is expected). */
  reusable: boolean;
  /** Waits for the detection window (slow with the defaults profile). */
  windowBound: boolean;
  /** Runs on the fresh cluster before the daemon starts. */
  prepare?: (cluster: BenchCluster['cluster']) => Promise<void>;
}

/** A silent master is fenced by quorum (and failed over) whenever synchronous replication is managed. */
const QUORUM_FAILS_OVER: Partial<Record<SyncMode, Expectation>> = { quorum: 'failover', quorum_strict: 'failover' };

export const FAULTS: Record<FaultName, FaultSpec> = {
  host_lost: { name: 'host_lost', label: 'master host lost (postgres SIGKILL + sshd down)', expect: 'failover', extra: {}, reusable: false, windowBound: false },
  crash_restart: { name: 'crash_restart', label: 'postgres crash (SIGKILL), restart_master = true', expect: 'restart', extra: { failover: { restart_master: true } }, reusable: true, windowBound: false },
  crash_zombie: {
    name: 'crash_zombie',
    label: 'postgres crash (SIGKILL) while the killed postmaster stays a zombie (its parent does not reap), restart_master = true',
    expect: 'restart',
    extra: { failover: { restart_master: true } },
    // A fresh cluster per run: HandyRep's restart puts pg1 below the host's reaper again.
    reusable: false,
    windowBound: false,
    async prepare(cluster) {
      await cluster.faults.stop(MASTER);
      await cluster.faults.startUnreaped(MASTER);
      await cluster.waitStreaming(cluster.replicas, cluster.master, 60_000);
    },
  },
  hung: { name: 'hung', label: 'master hung (SIGSTOP)', expect: 'failover', extra: {}, reusable: false, windowBound: true },
  partition_abort: {
    name: 'partition_abort',
    label: 'master partitioned from everyone, unreachable_master_policy = abort (default)',
    expect: 'abort',
    expectWith: QUORUM_FAILS_OVER,
    extra: { failover: { unreachable_master_policy: 'abort' } },
    reusable: true,
    windowBound: true,
  },
  partition_failover: {
    name: 'partition_failover',
    label: 'master partitioned from everyone, unreachable_master_policy = failover',
    expect: 'failover',
    extra: { failover: { unreachable_master_policy: 'failover' } },
    reusable: false,
    windowBound: true,
  },
  blip: { name: 'blip', label: '1-second network blip of the master', expect: 'no_failover', extra: {}, reusable: true, windowBound: true },
  handyrep_partition: { name: 'handyrep_partition', label: 'master cut off from HandyRep only', expect: 'no_failover', extra: {}, reusable: true, windowBound: true },
  silent_loss: {
    name: 'silent_loss',
    label: 'master host silently lost (iptables drop, then sshd + postgres SIGKILL), unreachable_master_policy = abort (default)',
    expect: 'abort',
    expectWith: QUORUM_FAILS_OVER,
    sync: ['off', 'quorum'],
    extra: { failover: { unreachable_master_policy: 'abort' } },
    reusable: false,
    windowBound: true,
  },
  silent_loss_failover: {
    name: 'silent_loss_failover',
    label: 'master host silently lost, unreachable_master_policy = failover',
    expect: 'failover',
    extra: { failover: { unreachable_master_policy: 'failover' } },
    reusable: false,
    windowBound: true,
  },
};

/** What HandyRep should do with this fault and synchronous_mode. */
export function expectFor(fault: FaultName, sync: SyncMode): Expectation {
  const spec = FAULTS[fault];
  return spec.expectWith?.[sync] ?? spec.expect;
}

/** The synchronous modes the plan runs a fault with unless told. */
export function defaultSyncModes(fault: FaultName): SyncMode[] {
  return FAULTS[fault].sync ?? ['off'];
}


/** One timed fault. Times are milliseconds after the fault was injected. */
export interface FailoverRun {
  profile: ProfileName;
  fault: FaultName;
  /** [failover] synchronous_mode of the run (absent in results from before issue 13: off). */
  sync: SyncMode;
  run: number;
  /** What happened: failover, restarted in place, no failover, no failover: policy abort, or error. */
  outcome: string;
  /** The outcome is the designed one. */
  as_designed: boolean;
  new_master: string | null;
  /** HandyRep's first log line about the master failing (lost connection or failed check). */
  noticed_ms: number | null;
  /** HandyRep's decision: the failover_started alert (failover), the abort line (policy abort), the verdict line (restart, no failover). */
  decided_ms: number | null;
  /** The promotion step finished (the new master confirmed writable by HandyRep). */
  promoted_ms: number | null;
  /** pgbouncer repointed (repoint_proxies step finished). */
  proxies_ms: number | null;
  /** First write accepted by the new (or restarted) master, seen by the 20 ms prober. */
  writable_ms: number | null;
  /** Writes through pgbouncer succeed again: the first ack after the longest pause that followed the fault. */
  pgbouncer_writes_ms: number | null;
  /** Longest pause between two acknowledged commits through pgbouncer around the fault. */
  write_gap_ms: number | null;
  /** Commits the writer had acknowledged from the start of the trial (before the fault) to its end: the ones the commit check looks for. */
  acked: number;
  lost: number;
  in_doubt: number;
  split_brain: number;
  /** A failover (or promotion) that should not have happened, or a second one. */
  false_failovers: number;
  /** Partitioned master still running when the run ended (policy failover promotes without fencing it). */
  old_master_running?: boolean;
  /** How the old master was fenced (clean_stop, plugin, refused_port, quorum, policy), read from the fence_old_master step in the daemon's log. */
  fenced_by: string | null;
  /** HandyRep's writable_after_ms: its failover_started alert to its promote step's success, from the daemon's log (the daemon does not log the result dictionary). */
  handyrep_writable_after_ms: number | null;
  /** How long after the fault the bench watched a case that must not fail over (silent loss, policy abort), with no promotion. */
  watched_ms: number | null;
  /** --jitter: the random wait before the fault (absent without). */
  jitter_ms?: number;
  error?: string;
  /** The daemon's log from the fault on: [ms after the fault, message]. */
  log: Array<[number, string]>;
  /** crash_restart: the last lines of the restarted server's log. */
  server_log?: string[];
}

export interface FailoverCaseSummary {
  profile: ProfileName;
  fault: FaultName;
  /** Absent in results from before issue 13: off. */
  sync?: SyncMode;
  label: string;
  expect: string;
  runs: number;
  outcomes: Record<string, number>;
  /** How the old master was fenced, counted over the runs that fenced it. */
  fenced_by?: Record<string, number>;
  handyrep_writable_after?: Summary | null;
  watched?: Summary | null;
  acked?: Summary | null;
  noticed: Summary | null;
  decided: Summary | null;
  promoted: Summary | null;
  writable: Summary | null;
  pgbouncer_writes: Summary | null;
  write_gap: Summary | null;
  lost: Summary | null;
  split_brain: number;
  false_failovers: number;
}

export interface SwitchoverRun {
  run: number;
  result: string;
  /** The manual_failover call, start to answer. */
  call_ms: number;
  /** HandyRep's own writable_after_ms. */
  handyrep_writable_after_ms: number | null;
  /** First write accepted by the new master after the call started (prober). */
  writable_ms: number | null;
  /** Longest pause between two acknowledged commits through pgbouncer during the switchover. */
  write_gap_ms: number | null;
  acked: number;
  lost: number;
  split_brain: number;
  error?: string;
  /** The daemon's log from the call on: [ms after the call started, message]. */
  log: Array<[number, string]>;
}

export interface SwitchoverSummary {
  runs: number;
  call: Summary | null;
  writable: Summary | null;
  write_gap: Summary | null;
  lost: Summary | null;
  split_brain: number;
}

// ----- an environment: cluster + daemon + observers ------------------------------------------

interface Env {
  bc: BenchCluster;
  daemon: DaemonChild;
  writer: Writer;
  watcher: SplitBrainWatcher;
  prober: WriteProber;
  sync: SyncMode;
}

async function openEnv(profile: Profile, extra: ConfOverrides, sync: SyncMode = 'off', prepare?: FaultSpec['prepare']): Promise<Env> {
  // BENCH_VERBOSE=1: the daemon logs debug lines too (to see where time goes; adds log overhead).
  const verbose: ConfOverrides = process.env['BENCH_VERBOSE'] ? { handyrep: { log_verbose: true } } : {};
  const bc = await benchCluster(mergeOverrides(profile.overrides, extra, syncOverrides(sync), verbose));
  let daemon: DaemonChild | undefined;
  let writer: Writer | undefined;
  let watcher: SplitBrainWatcher | undefined;
  let prober: WriteProber | undefined;
  try {
    await prepare?.(bc.cluster);
    await WriteProber.prepare(bc.cluster);
    daemon = await startManagedDaemon(bc);
    // A quorum fence needs the recorded set: no fault before the master shows ANY k (...).
    if (sync !== 'off') await waitForSyncSet(bc.cluster, bc.cluster.master.name);
    watcher = await bc.cluster.startSplitBrainWatcher();
    writer = await bc.cluster.startWriter({ host: bc.cluster.pgbouncers[0]!.name, intervalMs: 20 });
    prober = new WriteProber(bc.cluster, bc.cluster.postgresHosts.map((h) => h.name)).start();
    await writer.waitForAcks(20, 20_000);
    return { bc, daemon, writer, watcher, prober, sync };
  } catch (err) {
    await closeEnv({ bc, daemon, writer, watcher, prober } as Partial<Env> as Env);
    throw err;
  }
}

async function closeEnv(env: Partial<Env>): Promise<void> {
  await env.prober?.stop().catch(() => undefined);
  await env.writer?.stop().catch(() => undefined);
  await env.watcher?.stop().catch(() => undefined);
  await env.daemon?.stop().catch(() => undefined);
  if (env.bc) {
    await env.bc.cluster.faults.healAll().catch(() => undefined);
    for (const h of env.bc.cluster.postgresHosts) await env.bc.cluster.faults.resume(h.name).catch(() => undefined);
    await env.bc.cluster.teardown();
  }
}

// ----- one trial -------------------------------------------------------------------------------

interface Deadlines {
  /** How long a failover may take before the run counts as failed. */
  actMs: number;
  /** How long to keep watching for a wrong decision. */
  observeMs: number;
}

function deadlines(profile: Profile): Deadlines {
  // Ambiguous cases: window + verification (SSH, SQL time-outs) + fencing time-outs, with room.
  // Observation (the blip is healed after 1 s; the HandyRep-only cut is held this long): longer than
  // a full retry window plus verification (fast 4 s + 3 s), resp. than the whole 27 s window (defaults).
  return profile.name === 'fast' ? { actMs: 40_000, observeMs: 10_000 } : { actMs: 150_000, observeMs: 30_000 };
}

function firstMatch(log: LogEntry[], t0: number, re: RegExp): number | null {
  const hit = log.find((e) => e.time >= t0 && re.test(e.msg));
  return hit ? hit.time - t0 : null;
}

/**
 * The longest pause between two acknowledged commits in [from, to] (the last
 * ack before `from` opens the first pause): its length and the time of the
 * ack that ended it (undefined when writes had not resumed by `to`).
 */
function longestGap(acks: Ack[], from: number, to: number): { gap: number; resumedAt: number | undefined } {
  const inWindow = acks.filter((a) => a.t >= from && a.t <= to).map((a) => a.t);
  const before = acks.filter((a) => a.t < from).at(-1);
  const points = [before ? before.t : from, ...inWindow];
  let gap = 0;
  let resumedAt: number | undefined;
  for (let i = 1; i < points.length; i++) {
    if (points[i]! - points[i - 1]! > gap) {
      gap = points[i]! - points[i - 1]!;
      resumedAt = points[i];
    }
  }
  const open = to - points[points.length - 1]!;
  if (open > gap) return { gap: open, resumedAt: undefined };
  return { gap, resumedAt };
}

/** One case of the plan: a fault with a profile and a synchronous_mode, and what HandyRep should do. */
interface CaseSpec {
  profile: Profile;
  fault: FaultSpec;
  sync: SyncMode;
  expect: Expectation;
  /** A random wait before the fault, up to one verification period. */
  jitter: boolean;
}

/** One verification period of a profile: poll_interval × verify_frequency (the core default is 6). */
function verifyPeriodMs(profile: Profile): number {
  const every = profile.overrides['failover']?.['verify_frequency'];
  return profile.poll_interval_s * (typeof every === 'number' ? every : 6) * 1000;
}

/** Where a trial stands: the fault's time, and where the observers were before it. */
interface TrialClock {
  t0: number;
  /** The writer's acks when the trial began (≥ 20 more and 1.5 s of them come before the fault): the commit check starts here. */
  ackIndexStart: number;
  /** The writer's acks just before the fault. */
  ackIndexBefore: number;
  master: string;
  replicas: string[];
}

const MASTER = 'pg1';

async function trial(env: Env, spec: CaseSpec, run: number): Promise<FailoverRun> {
  const { writer, watcher } = env;
  const ackIndexStart = writer.acked.length;
  // The held connection is in place and the writer is flowing.
  await waitUntil(async () => (await api<StatusView>(env.daemon.url, 'get_status')).servers[MASTER]?.status === 'healthy', 60_000, 200);
  await writer.waitForAcks(20, 20_000);
  await sleep(1500);
  const jitterMs = spec.jitter ? Math.floor(Math.random() * verifyPeriodMs(spec.profile)) : undefined;
  if (jitterMs !== undefined) await sleep(jitterMs);
  const violationsBefore = watcher.violations.length;
  const inDoubtBefore = writer.inDoubt.length;
  const clock: TrialClock = { t0: 0, ackIndexStart, ackIndexBefore: writer.acked.length, master: MASTER, replicas: env.bc.cluster.replicas.map((h) => h.name) };
  const record: FailoverRun = { ...emptyRun(spec.profile.name, spec.fault.name, spec.sync, run), ...(jitterMs === undefined ? {} : { jitter_ms: jitterMs }) };
  try {
    clock.t0 = await injectFault(env, spec.fault.name);
    const end = await awaitOutcome(env, spec, clock, record);
    judge(env, spec, clock, end, record);
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
    record.outcome = 'error';
  }
  await countCommits(env, spec, clock, record);
  record.in_doubt = writer.inDoubt.length - inDoubtBefore;
  record.split_brain = watcher.violations.length - violationsBefore;
  if (record.split_brain > 0) record.as_designed = false;
  return record;
}

/** Injects the fault into the master; returns the moment the clock starts (the prober is armed then). */
async function injectFault(env: Env, fault: FaultName): Promise<number> {
  const { cluster } = env.bc;
  const start = (): number => {
    const t0 = Date.now();
    env.prober.arm(t0);
    return t0;
  };
  switch (fault) {
    case 'host_lost':
    case 'crash_restart':
    case 'crash_zombie': {
      if (fault === 'host_lost') await cluster.faults.sshDown(MASTER);
      // SIGKILL sent here rather than by faults.kill, which lists the postmaster's children first
      // (tens of ms): the clock starts at the signal. Its backends exit on their own at once.
      const pid = cluster.postmasterPid(MASTER);
      if (!pid) throw new Error(`no postmaster on ${MASTER}`);
      const t0 = start();
      process.kill(pid, 'SIGKILL');
      return t0;
    }
    case 'hung': {
      const t0 = start();
      await cluster.faults.hang(MASTER);
      return t0;
    }
    case 'partition_abort':
    case 'partition_failover':
    case 'blip': {
      const t0 = start();
      await cluster.faults.partition(MASTER);
      return t0;
    }
    case 'silent_loss':
    case 'silent_loss_failover': {
      // As scenario 17: every packet to and from the host dropped first (nothing refuses or resets),
      // then its sshd (with its sessions) and postgres killed behind that wall.
      const t0 = start();
      await cluster.faults.partition(MASTER);
      await cluster.faults.sshDown(MASTER);
      await cluster.faults.kill(MASTER);
      return t0;
    }
    case 'handyrep_partition': {
      const t0 = start();
      await cluster.faults.partitionFromHandyrep(MASTER);
      return t0;
    }
  }
}

/** Waits for what HandyRep should do (and heals what the case heals); returns the end of the observed period. */
async function awaitOutcome(env: Env, spec: CaseSpec, clock: TrialClock, record: FailoverRun): Promise<number> {
  const { cluster } = env.bc;
  const { writer, prober } = env;
  const { t0, master } = clock;
  const limits = deadlines(spec.profile);
  const ackAfter = (t: number): Ack | undefined => writer.acked.slice(clock.ackIndexBefore).find((a) => a.sent >= t);
  if (spec.expect === 'failover') {
    const newMasterWritable = (): string | undefined => clock.replicas.find((r) => prober.firstWriteAfterArm.has(r));
    await waitUntil(() => newMasterWritable() !== undefined, limits.actMs, 10);
    const nm = newMasterWritable();
    if (nm) {
      record.new_master = nm;
      const writableAt = prober.firstWriteAfterArm.get(nm)!;
      record.writable_ms = writableAt - t0;
      await waitUntil(() => readLogFile(env.bc.logFile).some((e) => e.time >= t0 && /^ALERT failover_finished/.test(e.msg)), 30_000, 100);
      await waitUntil(() => ackAfter(writableAt) !== undefined, 30_000, 20);
    }
  } else if (spec.expect === 'restart') {
    await waitUntil(() => prober.firstWriteAfterArm.has(master), limits.actMs, 10);
    const w = prober.firstWriteAfterArm.get(master);
    if (w !== undefined) record.writable_ms = w - t0;
    await waitUntil(() => ackAfter(w ?? t0) !== undefined, 30_000, 20);
    await sleep(3000); // room for a wrong second decision
  } else if (spec.expect === 'abort') {
    await waitUntil(() => readLogFile(env.bc.logFile).some((e) => e.time >= t0 && /unreachable_master_policy = abort/.test(e.msg)), limits.actMs, 100);
    if (SILENT_LOSS_FAULTS.includes(spec.fault.name)) {
      // A refused failover must stay refused (not re-run into a promotion): keep watching, then bring the host back.
      await sleep(limits.observeMs);
      record.watched_ms = Date.now() - t0;
    }
    const healAt = Date.now();
    await healMaster(env, spec.fault.name, master);
    await waitUntil(() => ackAfter(healAt) !== undefined, 30_000, 20);
  } else if (spec.fault.name === 'blip') {
    await sleep(1000);
    await cluster.faults.heal(master);
    await sleep(limits.observeMs);
  } else {
    await sleep(limits.observeMs);
    await cluster.faults.healFromHandyrep(master);
    await sleep(2000);
  }
  return Date.now();
}

/** Ends a fault that did not fail over: the partition healed; a silently lost host comes back whole (see restoreLostHost). */
async function healMaster(env: Env, fault: FaultName, master: string): Promise<void> {
  if (SILENT_LOSS_FAULTS.includes(fault)) await restoreLostHost(env.bc.cluster, master);
  else await env.bc.cluster.faults.heal(master);
}

/**
 * Brings a silently lost host back as a rebooted one would: postgres started
 * behind the partition and ready (its postmaster.pid says so: the address is
 * still cut), then the partition healed, then sshd. Healing first would show
 * HandyRep a reachable host whose postgres refuses: a master that is down,
 * which it rightly fails over.
 */
async function restoreLostHost(cluster: BenchCluster['cluster'], master: string): Promise<void> {
  if (!cluster.isPostgresRunning(master)) await cluster.faults.start(master, { wait: false });
  const pidFile = join(cluster.host(master).pgdata, 'postmaster.pid');
  await waitUntil(() => readFileSync(pidFile, 'utf8').split('\n')[7]?.trim() === 'ready', 30_000, 20);
  await cluster.faults.heal(master);
  await cluster.faults.sshUp(master);
  await cluster.waitPostgresReady(master);
}

/** How the old master was fenced, from the details of the fence_old_master step (as decideFence words them). */
function fencedByFromLog(log: LogEntry[], t0: number): string | null {
  const step = log.find((e) => e.time >= t0 && /^failover step fence_old_master: SUCCESS/.test(e.msg));
  if (!step) return null;
  if (/fenced by quorum:/.test(step.msg)) return 'quorum';
  if (/proceeding because unreachable_master_policy = failover/.test(step.msg)) return 'policy';
  if (/refuses connections, so it cannot accept writes/.test(step.msg)) return 'refused_port';
  if (/stopped cleanly/.test(step.msg)) return 'clean_stop';
  return 'plugin';
}

/** Reads the daemon's log and the observers into the record: the times, the outcome, whether it is the designed one. */
function judge(env: Env, spec: CaseSpec, clock: TrialClock, end: number, record: FailoverRun): void {
  const { cluster } = env.bc;
  const { t0, master, replicas } = clock;
  if (spec.fault.name === 'crash_restart' || spec.fault.name === 'crash_zombie') {
    // The restarted server's own log (restart_pg_ctl's pg_ctl -l file), to see where restart time goes.
    try {
      record.server_log = readFileSync(join(cluster.host(master).pgdata, 'log', 'handyrep-pg_ctl.log'), 'utf8').split('\n').filter(Boolean).slice(-15);
    } catch {
      /* not started by HandyRep */
    }
  }
  const log = readLogFile(env.bc.logFile).filter((e) => e.time >= t0 - 50);
  record.log = log.slice(0, process.env['BENCH_VERBOSE'] ? 400 : 80).map((e) => [e.time - t0, `${e.level} ${e.msg}`.slice(0, 400)]);
  record.noticed_ms = firstMatch(log, t0, new RegExp(`^(connection to master ${master} lost|master ${master} failed its check)`));
  record.promoted_ms = firstMatch(log, t0, /^failover step promote \S+: SUCCESS/);
  record.proxies_ms = firstMatch(log, t0, /^failover step repoint_proxies/);
  record.fenced_by = fencedByFromLog(log, t0);
  const started = firstMatch(log, t0, /^ALERT failover_started/);
  if (started !== null && record.promoted_ms !== null) record.handyrep_writable_after_ms = record.promoted_ms - started;
  const promotions = log.filter((e) => /^failover step promote \S+: SUCCESS/.test(e.msg)).length;
  const promotedReplicas = replicas.filter((r) => (env.prober.firstWriteAfterArm.get(r) ?? Infinity) <= end);
  // Writes through pgbouncer are back when the outage the fault caused ends: the ack closing the
  // longest pause (a commit acknowledged in the few ms before the fault took hold doesn't count).
  const outage = longestGap(env.writer.acked, t0, end);
  record.write_gap_ms = outage.gap;
  record.pgbouncer_writes_ms = outage.resumedAt === undefined ? null : outage.resumedAt - t0;
  const wrongPromotions = Math.max(promotions, promotedReplicas.length);

  switch (spec.expect) {
    case 'failover':
      record.decided_ms = started;
      record.outcome = record.new_master ? 'failover' : promotions > 0 ? 'failover (new master not writable)' : 'no failover';
      record.as_designed = record.new_master !== null && record.pgbouncer_writes_ms !== null;
      record.false_failovers = Math.max(0, promotions - 1);
      if (spec.fault.name === 'partition_failover' || spec.fault.name === 'partition_abort') record.old_master_running = cluster.isPostgresRunning(master);
      break;
    case 'restart': {
      const restarted = firstMatch(log, t0, /^ALERT status_warning: master \S+ had stopped and was restarted in place/);
      record.decided_ms = firstMatch(log, t0, new RegExp(`^master ${master} failed its check`));
      record.outcome = wrongPromotions > 0 ? 'failover' : restarted !== null ? 'restarted in place' : record.writable_ms !== null ? 'accepting again (not restarted by HandyRep?)' : 'not restarted';
      record.false_failovers = wrongPromotions;
      record.as_designed = record.false_failovers === 0 && restarted !== null;
      break;
    }
    case 'abort': {
      const aborted = firstMatch(log, t0, /unreachable_master_policy = abort/);
      record.decided_ms = aborted;
      record.false_failovers = wrongPromotions;
      record.outcome = record.false_failovers > 0 ? 'failover' : aborted !== null ? 'no failover: policy abort' : 'no decision within the deadline';
      record.as_designed = record.false_failovers === 0 && aborted !== null;
      break;
    }
    case 'no_failover':
      // The verdict that settled it: alive, cut off from HandyRep only, answered a re-poll, or verified.
      record.decided_ms = firstMatch(log, t0, /failed its check: (?!.*retrying before verifying)|answered again after|verified after failed polls/);
      record.false_failovers = wrongPromotions;
      record.outcome = record.false_failovers > 0 ? 'false failover' : 'no failover';
      record.as_designed = record.false_failovers === 0;
      break;
  }
}

/** Commits: acknowledged ones (since the trial began, so the last ones before the fault too) missing on the master that survived. */
async function countCommits(env: Env, spec: CaseSpec, clock: TrialClock, record: FailoverRun): Promise<void> {
  const { cluster } = env.bc;
  const survivor = record.new_master ?? clock.master;
  try {
    if (survivor === clock.master && ['partition_abort', 'blip', 'handyrep_partition', ...SILENT_LOSS_FAULTS].includes(spec.fault.name)) {
      await waitUntil(async () => (await cluster.query(survivor, 'SELECT 1', [], { timeoutMs: 1000 })).length === 1, 10_000, 200);
    }
    const mine = env.writer.acked.slice(clock.ackIndexStart);
    const ids = new Set(mine.map((a) => a.id));
    const check = await cluster.checkCommits(env.writer, survivor);
    record.acked = mine.length;
    record.lost = check.missing.filter((a) => ids.has(a.id)).length;
  } catch (err) {
    record.error = `${record.error ? `${record.error}; ` : ''}commit check: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Brings a reused cluster back to the starting point between trials. */
async function recover(env: Env, fault: FaultSpec): Promise<void> {
  const { cluster } = env.bc;
  await cluster.faults.healAll();
  if (fault.name === 'crash_restart' && !cluster.isPostgresRunning(MASTER)) await cluster.faults.start(MASTER);
  await cluster.waitStreaming(cluster.replicas, cluster.master, 60_000);
  await waitUntil(async () => allHealthy(await api<StatusView>(env.daemon.url, 'get_status')), 60_000, 200);
  if (env.sync !== 'off') await waitForSyncSet(cluster, MASTER, 60_000);
}

export interface CaseRequest {
  profile: ProfileName;
  fault: FaultName;
  runs: number;
  /** [failover] synchronous_mode (default off). */
  sync?: SyncMode;
  /** A random wait before each fault, up to one verification period (default none). */
  jitter?: boolean;
}

function log(line: string): void {
  console.log(line);
}

export function describeRun(r: FailoverRun): string {
  const f = (v: number | null): string => (v === null ? '–' : `${v}`);
  const fence = r.fenced_by ? `, fenced_by ${r.fenced_by}, HandyRep writable_after ${f(r.handyrep_writable_after_ms)} ms` : '';
  const watched = r.watched_ms !== null && r.new_master === null ? `, no promotion within ${(r.watched_ms / 1000).toFixed(1)} s` : '';
  const jitter = r.jitter_ms === undefined ? '' : ` (fault after a ${r.jitter_ms} ms jitter)`;
  return `  ${r.profile}/${r.fault}/sync ${r.sync} run ${r.run}${jitter}: ${r.outcome}${r.new_master ? ` → ${r.new_master}` : ''}; noticed ${f(r.noticed_ms)} ms, decided ${f(r.decided_ms)} ms, promoted ${f(r.promoted_ms)} ms, writable ${f(r.writable_ms)} ms, via pgbouncer ${f(r.pgbouncer_writes_ms)} ms, longest write gap ${f(r.write_gap_ms)} ms${fence}${watched}; acked ${r.acked}, lost ${r.lost}, in doubt ${r.in_doubt}, split-brain ${r.split_brain}, false failovers ${r.false_failovers}${r.old_master_running !== undefined ? `, old master still running: ${r.old_master_running}` : ''}${r.error ? `; ERROR ${r.error}` : ''}`;
}

/** Runs `runs` trials of one fault with one profile and synchronous_mode. */
export async function runCase(req: CaseRequest): Promise<FailoverRun[]> {
  const sync = req.sync ?? 'off';
  const spec: CaseSpec = { profile: PROFILES[req.profile], fault: FAULTS[req.fault], sync, expect: expectFor(req.fault, sync), jitter: req.jitter ?? false };
  const name = `${req.profile}/${req.fault}/sync ${sync}`;
  const runs: FailoverRun[] = [];
  if (spec.fault.reusable && spec.expect !== 'failover') {
    let env: Env | undefined;
    try {
      env = await openEnv(spec.profile, spec.fault.extra, sync, spec.fault.prepare);
      for (let i = 1; i <= req.runs; i++) {
        if (i > 1) await recover(env, spec.fault);
        const r = await trial(env, spec, i);
        runs.push(r);
        log(describeRun(r));
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log(`  ${name}: ERROR ${message}`);
      runs.push(errorRun(req, runs.length + 1, message));
    } finally {
      if (env) await closeEnv(env);
    }
    return runs;
  }
  for (let i = 1; i <= req.runs; i++) {
    let env: Env | undefined;
    try {
      env = await openEnv(spec.profile, spec.fault.extra, sync, spec.fault.prepare);
      const r = await trial(env, spec, i);
      runs.push(r);
      log(describeRun(r));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log(`  ${name} run ${i}: ERROR ${message}`);
      runs.push(errorRun(req, i, message));
    } finally {
      if (env) await closeEnv(env);
    }
  }
  return runs;
}

function errorRun(req: CaseRequest, run: number, message: string): FailoverRun {
  return { ...emptyRun(req.profile, req.fault, req.sync ?? 'off', run), error: message };
}

/** A run with nothing measured yet (outcome 'error' until the run says otherwise). */
function emptyRun(profile: FailoverRun['profile'], fault: FailoverRun['fault'], sync: SyncMode, run: number): FailoverRun {
  return {
    profile,
    fault,
    sync,
    run,
    outcome: 'error',
    as_designed: false,
    new_master: null,
    noticed_ms: null,
    decided_ms: null,
    promoted_ms: null,
    proxies_ms: null,
    writable_ms: null,
    pgbouncer_writes_ms: null,
    write_gap_ms: null,
    acked: 0,
    lost: 0,
    in_doubt: 0,
    split_brain: 0,
    false_failovers: 0,
    fenced_by: null,
    handyrep_writable_after_ms: null,
    watched_ms: null,
    log: [],
  };
}

function countBy(values: Array<string | null>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) if (v !== null) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export function summarizeCase(profile: ProfileName, fault: FaultName, runs: FailoverRun[], sync: SyncMode = 'off'): FailoverCaseSummary {
  const ok = runs.filter((r) => r.outcome !== 'error');
  return {
    profile,
    fault,
    sync,
    label: FAULTS[fault].label,
    expect: expectFor(fault, sync),
    runs: runs.length,
    outcomes: countBy(runs.map((r) => r.outcome)),
    fenced_by: countBy(ok.map((r) => r.fenced_by)),
    noticed: summarize(ok.map((r) => r.noticed_ms)),
    decided: summarize(ok.map((r) => r.decided_ms)),
    promoted: summarize(ok.map((r) => r.promoted_ms)),
    writable: summarize(ok.map((r) => r.writable_ms)),
    handyrep_writable_after: summarize(ok.map((r) => r.handyrep_writable_after_ms)),
    pgbouncer_writes: summarize(ok.map((r) => r.pgbouncer_writes_ms)),
    write_gap: summarize(ok.map((r) => r.write_gap_ms)),
    watched: summarize(ok.map((r) => (r.new_master === null ? r.watched_ms : null))),
    acked: summarize(ok.map((r) => r.acked)),
    lost: summarize(ok.map((r) => r.lost)),
    split_brain: runs.reduce((n, r) => n + r.split_brain, 0),
    false_failovers: runs.reduce((n, r) => n + r.false_failovers, 0),
  };
}

// ----- planned switchover --------------------------------------------------------------------------

export async function runSwitchover(runs: number): Promise<SwitchoverRun[]> {
  const out: SwitchoverRun[] = [];
  for (let i = 1; i <= runs; i++) {
    let env: Env | undefined;
    const rec: SwitchoverRun = { run: i, result: 'error', call_ms: 0, handyrep_writable_after_ms: null, writable_ms: null, write_gap_ms: null, acked: 0, lost: 0, split_brain: 0, log: [] };
    try {
      env = await openEnv(PROFILES.fast, {});
      const { writer, watcher, prober, daemon, bc } = env;
      await writer.waitForAcks(50, 20_000);
      const ackIndexBefore = writer.acked.length;
      const violationsBefore = watcher.violations.length;
      const t0 = Date.now();
      prober.arm(t0);
      const result = await api<{ result: string; details: string; writable_after_ms?: number }>(daemon.url, 'manual_failover', { newmaster: 'pg2', remaster: true });
      rec.call_ms = Date.now() - t0;
      rec.result = result.result === 'SUCCESS' ? 'SUCCESS' : `FAIL: ${result.details}`;
      rec.handyrep_writable_after_ms = result.writable_after_ms ?? null;
      const w = prober.firstWriteAfterArm.get('pg2');
      rec.writable_ms = w === undefined ? null : w - t0;
      await waitUntil(() => writer.acked.slice(ackIndexBefore).some((a) => a.sent >= t0 + rec.call_ms), 20_000, 20);
      await sleep(1000);
      const end = Date.now();
      rec.write_gap_ms = longestGap(writer.acked, t0, end).gap;
      rec.log = readLogFile(bc.logFile)
        .filter((e) => e.time >= t0 - 50)
        .slice(0, 60)
        .map((e) => [e.time - t0, `${e.level} ${e.msg}`.slice(0, 400)]);
      await writer.stop();
      const check = await bc.cluster.checkCommits(writer, 'pg2');
      rec.acked = writer.acked.length;
      rec.lost = check.missing.length;
      rec.split_brain = watcher.violations.length - violationsBefore;
    } catch (err) {
      rec.error = err instanceof Error ? err.message : String(err);
    } finally {
      if (env) await closeEnv(env);
    }
    log(`  switchover run ${i}: ${rec.result}; call ${rec.call_ms} ms, HandyRep writable_after ${rec.handyrep_writable_after_ms ?? '–'} ms, prober writable ${rec.writable_ms ?? '–'} ms, longest write gap via pgbouncer ${rec.write_gap_ms ?? '–'} ms; acked ${rec.acked}, lost ${rec.lost}, split-brain ${rec.split_brain}${rec.error ? `; ERROR ${rec.error}` : ''}`);
    out.push(rec);
  }
  return out;
}

export function summarizeSwitchover(runs: SwitchoverRun[]): SwitchoverSummary {
  const ok = runs.filter((r) => r.result === 'SUCCESS');
  return {
    runs: runs.length,
    call: summarize(ok.map((r) => r.call_ms)),
    writable: summarize(ok.map((r) => r.writable_ms)),
    write_gap: summarize(ok.map((r) => r.write_gap_ms)),
    lost: summarize(ok.map((r) => r.lost)),
    split_brain: runs.reduce((n, r) => n + r.split_brain, 0),
  };
}

export function printCase(s: FailoverCaseSummary): void {
  const outcomes = Object.entries(s.outcomes).map(([k, v]) => `${k} ×${v}`).join(', ');
  const fenced = Object.entries(s.fenced_by ?? {}).map(([k, v]) => `${k} ×${v}`).join(', ');
  log(`${s.profile} · synchronous_mode ${s.sync ?? 'off'} · ${s.label}: ${outcomes}`);
  log(`    noticed ${fmtSeconds(s.noticed)} · decided ${fmtSeconds(s.decided)} · writable ${fmtSeconds(s.writable)} · HandyRep writable_after ${fmtSeconds(s.handyrep_writable_after ?? null)} · fenced_by ${fenced || '–'} · via pgbouncer ${fmtSeconds(s.pgbouncer_writes)} · no promotion within ${fmtSeconds(s.watched ?? null)} · commits lost ${fmtCount(s.lost)} of ${fmtCount(s.acked ?? null)} · split-brain ${s.split_brain} · false failovers ${s.false_failovers}`);
}

// ----- standalone ---------------------------------------------------------------------------------

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string', default: 'fast' },
      fault: { type: 'string', default: 'host_lost' },
      sync: { type: 'string', default: 'off' },
      jitter: { type: 'boolean', default: false },
      runs: { type: 'string', default: '1' },
      switchover: { type: 'string', default: '0' },
    },
  });
  const profile = values.profile as ProfileName;
  const sync = values.sync as SyncMode;
  if (!SYNC_MODES.includes(sync)) throw new Error(`unknown synchronous_mode ${sync}; one of ${SYNC_MODES.join(', ')}`);
  for (const fault of String(values.fault).split(',').filter(Boolean) as FaultName[]) {
    if (!FAULTS[fault]) throw new Error(`unknown fault ${fault}; one of ${FAULT_NAMES.join(', ')}`);
    const runs = await runCase({ profile, fault, sync, jitter: values.jitter, runs: Number(values.runs) });
    printCase(summarizeCase(profile, fault, runs, sync));
    if (process.env['BENCH_LOG']) for (const r of runs) console.log(r.log.map(([t, m]) => `    ${t} ${m}`).join('\n'));
  }
  const sw = Number(values.switchover);
  if (sw > 0) {
    const runs = await runSwitchover(sw);
    if (process.env['BENCH_LOG']) for (const r of runs) console.log(r.log.map(([t, m]) => `    ${t} ${m}`).join('\n'));
    console.log(JSON.stringify(summarizeSwitchover(runs)));
  }
}
