// Shared pieces of the benchmarks (npm run bench): statistics, the machine
// description, the two failover profiles, a harness cluster with pgbouncer
// managed by HandyRep, the HandyRep daemon as a child process (the real
// `handyrep daemon` command line), its JSON-lines log, and a write prober.
// Figures are printed and written to bench-results/, never asserted.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createCluster, PG_BIN, type Cluster, type ConfOverrides } from '../harness/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const HANDYREP_BIN = join(REPO_ROOT, 'core', 'bin', 'handyrep.js');
export const RESULTS_DIR = join(REPO_ROOT, 'bench-results');

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ----- statistics ------------------------------------------------------------------

export interface Summary {
  n: number;
  min: number;
  median: number;
  max: number;
}

export function summarize(values: Array<number | null | undefined>): Summary | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length % 2 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2;
  return { n: xs.length, min: xs[0]!, median: mid, max: xs[xs.length - 1]! };
}

/** The p-th percentile (0–100) of sorted values, nearest rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** "min / median / max" in seconds with n, or "–". */
export function fmtSeconds(s: Summary | null, digits = 2): string {
  if (!s) return '–';
  const f = (ms: number): string => (ms / 1000).toFixed(digits);
  return s.n === 1 ? `${f(s.median)} s (n=1)` : `${f(s.min)} / ${f(s.median)} / ${f(s.max)} s (n=${s.n})`;
}

export function fmtCount(s: Summary | null): string {
  if (!s) return '–';
  return s.min === s.max ? `${s.min}` : `${s.min}–${s.max} (median ${s.median})`;
}

// ----- the machine -------------------------------------------------------------------

export interface MachineInfo {
  nproc: number;
  cpu_model: string;
  memory_gib: number;
  kernel: string;
  node: string;
  postgresql: string;
  load_average_at_start: number[];
  other_harness_clusters_at_start: number;
}

function postgresVersion(): string {
  try {
    return execFileSync(join(PG_BIN, 'postgres'), ['--version'], { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return 'unknown';
  }
}

/** Harness clusters of other processes alive right now (a shared machine). */
export function otherHarnessClusters(): number {
  try {
    return readdirSync('/tmp/handyrep-harness/slots').length;
  } catch {
    return 0;
  }
}

export function machineInfo(): MachineInfo {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return {
    nproc: cpus().length,
    cpu_model: model.trim(),
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    postgresql: postgresVersion(),
    load_average_at_start: loadavg().map((x) => Math.round(x * 100) / 100),
    other_harness_clusters_at_start: otherHarnessClusters(),
  };
}

// ----- profiles ----------------------------------------------------------------------

export type ProfileName = 'fast' | 'defaults';

export interface Profile {
  name: ProfileName;
  /** What the profile sets, in words (for the report). */
  description: string;
  overrides: ConfOverrides;
  poll_interval_s: number;
  fail_retries: number;
  fail_retry_interval_s: number;
  poll_timeout_s: number;
  /**
   * Worst-case detection window of an ambiguous failure (hung, partitioned):
   * the time until the next periodic check plus the retry window plus the
   * last re-poll's time-out.
   */
  window_s: number;
}

/** Plugin choices common to both profiles (a real deployment names them; the core has no default plugin). */
const PLUGINS: ConfOverrides = {
  failover: {
    poll_method: 'poll_isready',
    replication_status_method: 'replication_mb_lag',
    selection_method: 'select_replica_furthest_ahead',
    fencing_method: 'fence_shutdown',
    connection_failover_method: 'multi_pgbouncer',
    auto_failover: true,
  },
  server_defaults: { clone_method: null },
};

function profile(name: ProfileName, description: string, pollInterval: number, retries: number, retryInterval: number, pollTimeout: number, extra: ConfOverrides): Profile {
  return {
    name,
    description,
    overrides: mergeOverrides(PLUGINS, { failover: { poll_interval: pollInterval, fail_retries: retries, fail_retry_interval: retryInterval } }, extra),
    poll_interval_s: pollInterval,
    fail_retries: retries,
    fail_retry_interval_s: retryInterval,
    poll_timeout_s: pollTimeout,
    window_s: pollInterval + retries * retryInterval + pollTimeout,
  };
}

export const PROFILES: Record<ProfileName, Profile> = {
  // The detection window of the scenario tests: poll every second, two retries one second
  // apart, and the time-outs that go with it (1 s poll and connect, 3 s SSH, fencing 1 s + 3 s).
  fast: profile(
    'fast',
    'poll_interval 1, fail_retries 2, fail_retry_interval 1, verify_frequency 5; connect_timeout 1, statement_timeout 5, ssh_timeout 3; poll_isready timeout_ms 1000; fence_shutdown stop_timeout_ms 1000, confirm_timeout_ms 3000',
    1,
    2,
    1,
    1,
    {
      handyrep: { connect_timeout: 1, statement_timeout: 5, ssh_timeout: 3 },
      failover: { verify_frequency: 5 },
      'plugins.poll_isready': { timeout_ms: 1000 },
      'plugins.fence_shutdown': { stop_timeout_ms: 1000, confirm_timeout_ms: 3000 },
    },
  ),
  // The core's defaults for every timing key (poll_interval 10, fail_retries 3, fail_retry_interval 5,
  // verify_frequency 6, connect_timeout 5, ssh_timeout 10, poll_isready 2000 ms, fence_shutdown 20 s + 10 s).
  defaults: profile(
    'defaults',
    'every timing key at the core default: poll_interval 10, fail_retries 3, fail_retry_interval 5, verify_frequency 6; connect_timeout 5, statement_timeout 30, ssh_timeout 10; poll_isready timeout_ms 2000; fence_shutdown stop_timeout_ms 20000, confirm_timeout_ms 10000',
    10,
    3,
    5,
    2,
    {
      handyrep: { connect_timeout: null, statement_timeout: null, ssh_timeout: null },
      failover: { verify_frequency: null },
    },
  ),
};

export function mergeOverrides(...layers: ConfOverrides[]): ConfOverrides {
  const out: ConfOverrides = {};
  for (const layer of layers) {
    for (const [section, values] of Object.entries(layer)) {
      if (values === null) out[section] = null;
      else out[section] = { ...(out[section] ?? {}), ...values };
    }
  }
  return out;
}

// ----- cluster + config ---------------------------------------------------------------

/** Web API credentials written into every bench config. */
export const WEB = { admin: 'bench-admin-password', read: 'bench-read-password' } as const;

/** PostgreSQL settings of every bench cluster (as the scenario tests): replicas notice a silent master within 2 s. */
export const BENCH_PG_SETTINGS = { wal_receiver_timeout: '2s', wal_sender_timeout: '2s' };

/** Master pg1, replicas pg2 and pg3, pgbouncer bouncer1 (routing to pg1 by itself); fsync off unless asked (the harness default). */
export function plainCluster(opts: { fsync?: boolean } = {}): Promise<Cluster> {
  return createCluster({ replicas: 2, pgbouncer: 1, pgSettings: BENCH_PG_SETTINGS, ...(opts.fsync === undefined ? {} : { fsync: opts.fsync }) });
}

export interface BenchCluster {
  cluster: Cluster;
  configFile: string;
  logFile: string;
}

/**
 * A harness cluster (master pg1, replicas pg2 and pg3, pgbouncer bouncer1)
 * and a handyrep.conf for it: the profile, pgbouncer managed by
 * multi_pgbouncer (its databases file included last, as the plugin's README
 * asks), the web API with simple_password_auth, and `extra`.
 */
export async function benchCluster(extra: ConfOverrides = {}, opts: { fsync?: boolean } = {}): Promise<BenchCluster> {
  const cluster = await plainCluster(opts);
  try {
    const bouncer = cluster.pgbouncers[0]!;
    const databasesFile = join(bouncer.dir, 'handyrep-databases.ini');
    const ini = cluster.pgbouncerIni(bouncer, cluster.master);
    writeFileSync(bouncer.pgbouncerIni!, `${ini.slice(ini.indexOf('[pgbouncer]'))}\n%include ${databasesFile}\n`);
    const logFile = join(cluster.baseDir, 'handyrep.log');
    const configFile = cluster.writeConfig(
      undefined,
      mergeOverrides(
        {
          handyrep: { log_file: logFile, authentication_method: 'simple_password_auth' },
          'plugins.multi_pgbouncer': { database_list: cluster.database },
          [`servers.${bouncer.name}`]: { pgbouncer_config: bouncer.pgbouncerIni!, pgbouncer_databases_file: databasesFile, pgbouncer_socket_dir: bouncer.dir },
          passwords: { admin_password: WEB.admin, read_password: WEB.read },
        },
        extra,
      ),
    );
    return { cluster, configFile, logFile };
  } catch (err) {
    await cluster.teardown();
    throw err;
  }
}

// ----- the daemon as a child process ---------------------------------------------------

export interface DaemonChild {
  pid: number;
  url: string;
  child: ChildProcess;
  /** Everything the process wrote on stderr (start-up line, warnings). */
  stderr(): string;
  /** SIGTERM (graceful), SIGKILL after 15 s. */
  stop(): Promise<number | null>;
}

/** Starts `handyrep --config <file> daemon --port 0` and waits for its URL. */
export async function startDaemonChild(configFile: string, timeoutMs = 30_000): Promise<DaemonChild> {
  const child = spawn(process.execPath, [HANDYREP_BIN, '--config', configFile, 'daemon', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: REPO_ROOT,
  });
  let err = '';
  child.stdout!.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start within ${timeoutMs} ms: ${err.slice(-2000)}`)), timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      if (err.length > 200_000) err = err.slice(-100_000);
      const m = /web API and dashboard at (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${String(code)}) before listening: ${err.slice(-2000)}`));
    });
  });
  let stopping: Promise<number | null> | undefined;
  return {
    pid: child.pid!,
    url,
    child,
    stderr: () => err,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}

/** Calls the daemon's web API (read credentials for GET, admin for POST). */
export async function api<T = unknown>(url: string, fn: string, body?: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
  const admin = body !== undefined;
  const auth = Buffer.from(admin ? `admin:${WEB.admin}` : `read:${WEB.read}`).toString('base64');
  const res = await fetch(`${url}/${fn}`, {
    method: admin ? 'POST' : 'GET',
    headers: { authorization: `Basic ${auth}`, ...(admin ? { 'content-type': 'application/json' } : {}) },
    ...(admin ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${fn}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
}

export interface StatusView {
  cluster: { status: string; status_message: string };
  servers: Record<string, { role: string; enabled: boolean; status: string; status_message: string }>;
}

/** Polls `predicate` until it holds or the deadline passes. */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await predicate()) return true;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/** Every enabled server healthy. */
export function allHealthy(status: StatusView): boolean {
  const servers = Object.values(status.servers ?? {});
  return servers.length > 0 && servers.every((s) => !s.enabled || s.status === 'healthy');
}

/** The daemon of a bench cluster, pgbouncer initialised (connection_proxy_init) and every server healthy. */
export async function startManagedDaemon(bc: BenchCluster): Promise<DaemonChild> {
  const daemon = await startDaemonChild(bc.configFile);
  try {
    const init = await api<{ result: string; details: string }>(daemon.url, 'connection_proxy_init', {});
    if (init.result !== 'SUCCESS') throw new Error(`connection_proxy_init: ${init.details}`);
    if (!(await waitUntil(async () => allHealthy(await api<StatusView>(daemon.url, 'get_status')), 30_000, 200))) {
      throw new Error(`servers not healthy: ${JSON.stringify(await api(daemon.url, 'get_status'))}`);
    }
    return daemon;
  } catch (err) {
    await daemon.stop();
    throw err;
  }
}

// ----- synchronous replication (issue 13) ---------------------------------------------------

/** [failover] synchronous_mode. */
export type SyncMode = 'off' | 'quorum' | 'quorum_strict';

export const SYNC_MODES: SyncMode[] = ['off', 'quorum', 'quorum_strict'];

/** The config for a synchronous_mode (off: nothing, the default). */
export function syncOverrides(sync: SyncMode): ConfOverrides {
  return sync === 'off' ? {} : { failover: { synchronous_mode: sync } };
}

/** A server's synchronous_standby_names ('' when set to nothing or when it does not answer). */
export async function standbyNames(cluster: Cluster, host: string): Promise<string> {
  const rows = await cluster.query(host, 'SHOW synchronous_standby_names', [], { timeoutMs: 2000 }).catch(() => []);
  return String(rows[0]?.['synchronous_standby_names'] ?? '');
}

/**
 * Waits until HandyRep has put a quorum set (`ANY k (...)`) on the master and
 * every standby streams under it (sync_state quorum); returns the setting.
 */
export async function waitForSyncSet(cluster: Cluster, master: string, timeoutMs = 30_000): Promise<string> {
  const ok = await waitUntil(async () => {
    if (!(await standbyNames(cluster, master)).startsWith('ANY ')) return false;
    const rows = await cluster.query(master, 'SELECT sync_state FROM pg_stat_replication', [], { timeoutMs: 2000 });
    return rows.length === cluster.replicas.length && rows.every((r) => r['sync_state'] === 'quorum');
  }, timeoutMs, 200);
  const names = await standbyNames(cluster, master);
  if (!ok) throw new Error(`no quorum set on ${master} within ${timeoutMs} ms: synchronous_standby_names = '${names}'`);
  return names;
}

// ----- the daemon's log ------------------------------------------------------------------

export interface LogEntry {
  time: number;
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** Every JSON line of a HandyRep log file (torn or foreign lines skipped). */
export function readLogFile(file: string): LogEntry[] {
  if (!existsSync(file)) return [];
  const out: LogEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      // pino writes ISO times here (stdTimeFunctions.isoTime); epoch numbers are accepted too.
      const time = typeof entry.time === 'number' ? entry.time : typeof entry.time === 'string' ? Date.parse(entry.time) : NaN;
      if (Number.isFinite(time) && typeof entry.msg === 'string') out.push({ ...entry, time } as LogEntry);
    } catch {
      /* torn line */
    }
  }
  return out;
}

// ----- a write prober -------------------------------------------------------------------------

/**
 * One persistent connection per host, a real write every `intervalMs`
 * (upsert into bench_probe); after `arm(t)` records each host's first
 * success that follows a refusal or failure. A replica answers "read-only
 * transaction" at once, so that is the moment it accepts writes; a
 * SIGKILLed master's surviving backends still commit for a few ms until they
 * notice the postmaster is gone, which the failure requirement skips. Runs
 * as root in this process: a HandyRep-only partition (root's traffic) cuts
 * it from that host.
 */
export class WriteProber {
  private stopped = false;
  private armedAt = Infinity;
  private readonly failedSinceArm = new Set<string>();
  readonly firstWriteAfterArm = new Map<string, number>();
  readonly lastWrite = new Map<string, number>();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly cluster: Cluster,
    private readonly hosts: string[],
    private readonly intervalMs = 20,
  ) {}

  static async prepare(cluster: Cluster): Promise<void> {
    await cluster.query(cluster.master.name, 'CREATE TABLE IF NOT EXISTS bench_probe (host text PRIMARY KEY, t timestamptz)', [], { timeoutMs: 5000 });
  }

  start(): this {
    this.loops = this.hosts.map((host) => this.loop(host));
    return this;
  }

  /** Records, from now on, each host's first successful write. */
  arm(at = Date.now()): void {
    this.armedAt = at;
    this.firstWriteAfterArm.clear();
    this.failedSinceArm.clear();
  }

  /** Hosts that accepted a write since `since`. */
  writableSince(since: number): string[] {
    return [...this.lastWrite.entries()].filter(([, t]) => t >= since).map(([h]) => h);
  }

  private async loop(host: string): Promise<void> {
    const target = this.cluster.target(host);
    while (!this.stopped) {
      const client = new pg.Client({ ...target, connectionTimeoutMillis: 500, query_timeout: 1000, application_name: 'bench-prober' } as pg.ClientConfig);
      client.on('error', () => undefined);
      try {
        await client.connect();
        while (!this.stopped) {
          const sent = Date.now();
          try {
            await client.query('INSERT INTO bench_probe VALUES ($1, now()) ON CONFLICT (host) DO UPDATE SET t = now()', [host]);
            const now = Date.now();
            this.lastWrite.set(host, now);
            if (sent >= this.armedAt && this.failedSinceArm.has(host) && !this.firstWriteAfterArm.has(host)) this.firstWriteAfterArm.set(host, now);
          } catch (err) {
            if (sent >= this.armedAt) this.failedSinceArm.add(host);
            if ((err as { code?: string }).code !== '25006') throw err; // read-only: keep the connection
          }
          await sleep(this.intervalMs);
        }
      } catch {
        if (Date.now() >= this.armedAt) this.failedSinceArm.add(host);
        await sleep(this.intervalMs);
      } finally {
        const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
        stream?.destroy();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

// ----- /proc sampling -----------------------------------------------------------------------------

const CLOCK_TICKS = 100;

/** VmRSS (kB, and its anonymous / file-backed parts) and utime+stime (seconds) of a process, from /proc. */
export function procSample(pid: number): { rssKb: number; rssAnonKb: number; rssFileKb: number; cpuS: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    const rssKb = field('VmRSS');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3); utime is field 14, stime field 15.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return { rssKb, rssAnonKb: field('RssAnon'), rssFileKb: field('RssFile'), cpuS: (utime + stime) / CLOCK_TICKS };
  } catch {
    return null;
  }
}
