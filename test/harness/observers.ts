// Observers: a Writer recording every acknowledged commit, a SplitBrainWatcher
// recording any moment two servers accepted a write, and the comparison of
// acknowledged commits with what a server holds. Each observer runs in its
// own child process (observer-worker.ts), by default as the user `nobody` (started as root, it drops to that uid after loading its modules).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Cluster, Host } from './cluster.js';
import type { ConnTarget } from './pgclient.js';
import { osUser, settlesWithin, waitFor } from './proc.js';
import type { ObserverConfig } from './observer-worker.js';

export interface Ack {
  id: number;
  /** When the INSERT was sent (ms since epoch). */
  sent: number;
  /** When its commit was acknowledged. */
  t: number;
}

export interface WriteError {
  id: number;
  sent: number;
  t: number;
  /** 'connect' (nothing sent) or 'insert' (sent: in doubt, may have committed). */
  phase: string;
  message: string;
  code?: string;
}

export interface SplitBrainEvent {
  hosts: string[];
  /** Start and end of the probe round in which they all accepted a write. */
  t: number;
  end: number;
}

export interface StateChange {
  host: string;
  state: 'writable' | 'not-writable' | 'unreachable';
  detail?: string;
  t: number;
}

const WORKER = fileURLToPath(new URL('./observer-worker.js', import.meta.url));

/** How long an observer may take to report 'ready' (node start-up and module loading on a loaded machine). */
const READY_TIMEOUT_MS = 30_000;
/** After 'stop', how long the observer may take to finish its round before it is SIGKILLed. */
const STOP_GRACE_MS = 10_000;
/** After SIGKILL, how long to wait for its exit before giving up on it (never forever). */
const KILL_WAIT_MS = 5_000;

class ObserverProcess {
  readonly child: ChildProcess;
  readonly user: string;
  /** The uid the worker reported after dropping privileges. */
  uid = -1;
  stopped = false;
  fatal: string | null = null;
  /** Set once the process has exited (or could not be started). */
  exited = false;
  /** Resolves when the process has exited and its output is read, or it failed to start: never left pending by a dead worker. */
  private readonly done: Promise<void>;
  private stopping: Promise<void> | null = null;
  private readyResolve!: () => void;
  private readonly readyPromise: Promise<void>;

  constructor(config: ObserverConfig, runAs: string, onEvent: (ev: Record<string, unknown>) => void) {
    this.user = runAs;
    const u = runAs === 'root' ? null : osUser(runAs);
    this.readyPromise = new Promise((r) => (this.readyResolve = r));
    // Started as root and dropping to the user itself, after loading its modules.
    this.child = spawn(process.execPath, [WORKER], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, HARNESS_OBSERVER: JSON.stringify(u ? { ...config, uid: u.uid, gid: u.gid } : config) },
      cwd: '/',
      detached: true,
    });
    this.child.stdin!.on('error', () => {});
    this.child.once('exit', () => (this.exited = true));
    this.done = new Promise((resolve) => {
      const finish = (): void => {
        this.exited = true;
        resolve();
      };
      // 'close': exited and its last events (final round count, fatal) read.
      this.child.once('close', finish);
      // A spawn failure emits 'error' and no 'exit'.
      this.child.once('error', (err) => {
        this.fatal ??= `observer process: ${err.message}`;
        if (this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) finish();
      });
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (ev.type === 'ready') {
        this.uid = ev.uid as number;
        this.readyResolve();
      }
      else if (ev.type === 'fatal') this.fatal = String(ev.message);
      else onEvent(ev);
    });
    // An observer a test forgot to stop must not keep the test process alive
    // (it exits when its stdin closes, and teardown kills it).
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    (this.child.stdout as unknown as { unref?: () => void }).unref?.();
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Resolves once the worker reported 'ready'; rejects if it exits first or takes longer than READY_TIMEOUT_MS (it is then killed). */
  async ready(what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.readyPromise.then(() => 'ready' as const),
      this.done.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS))),
    ]).finally(() => clearTimeout(timer));
    if (outcome === 'ready') return;
    await this.stop();
    throw new Error(
      outcome === 'exited'
        ? `${what} exited before it was ready${this.fatal ? `: ${this.fatal}` : ''} (exit ${this.child.exitCode ?? this.child.signalCode})`
        : `${what} not ready after ${READY_TIMEOUT_MS} ms (killed)`,
    );
  }

  /**
   * Asks the worker to stop, SIGKILLs it after STOP_GRACE_MS, and returns at
   * the latest KILL_WAIT_MS after that: it never waits forever on a worker.
   * Idempotent (a second call waits for the first).
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    this.stopped = true;
    if (this.exited) return;
    this.child.stdin!.end('stop\n');
    if (await settlesWithin(this.done, STOP_GRACE_MS)) return;
    this.child.kill('SIGKILL');
    if (await settlesWithin(this.done, KILL_WAIT_MS)) return;
    this.fatal ??= `observer process ${this.pid} did not exit after SIGKILL`;
  }
}

export interface WriterOptions {
  /** Host (PostgreSQL or pgbouncer) to write through (default: the initial master). */
  host?: string | Host;
  /** Or explicit connection parameters. */
  target?: ConnTarget;
  /** Pause between inserts (default 20 ms). */
  intervalMs?: number;
  /** Connect and insert deadline (default 2000 ms). */
  timeoutMs?: number;
  /** Name of this writer (rows are keyed by it). */
  name?: string;
  /** OS user the writer process runs as (default 'nobody'). */
  runAs?: string;
}

export class Writer {
  readonly acked: Ack[] = [];
  readonly errors: WriteError[] = [];
  private proc: ObserverProcess | null = null;

  constructor(
    readonly name: string,
    readonly target: ConnTarget,
  ) {}

  async start(opts: { intervalMs: number; timeoutMs: number; runAs: string }): Promise<this> {
    this.proc = new ObserverProcess(
      { kind: 'writer', name: this.name, target: this.target, intervalMs: opts.intervalMs, timeoutMs: opts.timeoutMs },
      opts.runAs,
      (ev) => {
        if (ev.type === 'ack') this.acked.push({ id: ev.id as number, sent: ev.sent as number, t: ev.t as number });
        else if (ev.type === 'error')
          this.errors.push({
            id: ev.id as number,
            sent: ev.sent as number,
            t: ev.t as number,
            phase: String(ev.phase),
            message: String(ev.message),
            ...(ev.code ? { code: String(ev.code) } : {}),
          });
      },
    );
    await this.proc.ready(`writer ${this.name}`);
    return this;
  }

  get pid(): number {
    return this.proc?.pid ?? 0;
  }
  /** True while its process runs. */
  get running(): boolean {
    return this.proc !== null && !this.proc.exited;
  }
  get user(): string {
    return this.proc?.user ?? '';
  }
  /** The uid the observer process runs as (reported by it). */
  get uid(): number {
    return this.proc?.uid ?? -1;
  }
  get lastAck(): Ack | undefined {
    return this.acked[this.acked.length - 1];
  }
  /** Ids whose insert was sent but not acknowledged: they may or may not have committed. */
  get inDoubt(): number[] {
    return this.errors.filter((e) => e.phase === 'insert').map((e) => e.id);
  }

  /** Waits until at least n more commits than now are acknowledged. */
  async waitForAcks(n: number, timeoutMs = 10_000): Promise<void> {
    const target = this.acked.length + n;
    await waitFor(`${n} acknowledged writes from writer ${this.name}`, () => this.acked.length >= target, timeoutMs, 10);
  }

  async stop(): Promise<{ acked: Ack[]; errors: WriteError[] }> {
    await this.proc?.stop();
    if (this.proc?.fatal) throw new Error(`writer ${this.name} failed: ${this.proc.fatal}`);
    return { acked: this.acked, errors: this.errors };
  }
}

export interface WatcherOptions {
  /** PostgreSQL hosts to probe (default: every PostgreSQL host, spares included). */
  hosts?: Array<string | Host>;
  /** Time between probe rounds (default 100 ms). */
  intervalMs?: number;
  /** Deadline of one probe (default 500 ms). */
  timeoutMs?: number;
  runAs?: string;
}

export class SplitBrainWatcher {
  readonly violations: SplitBrainEvent[] = [];
  readonly changes: StateChange[] = [];
  rounds = 0;
  private proc: ObserverProcess | null = null;

  constructor(readonly targets: Array<ConnTarget & { name: string }>) {}

  async start(opts: { intervalMs: number; timeoutMs: number; runAs: string }): Promise<this> {
    this.proc = new ObserverProcess(
      { kind: 'watcher', targets: this.targets, intervalMs: opts.intervalMs, timeoutMs: opts.timeoutMs },
      opts.runAs,
      (ev) => {
        if (ev.type === 'splitbrain') this.violations.push({ hosts: ev.hosts as string[], t: ev.t as number, end: ev.end as number });
        else if (ev.type === 'state')
          this.changes.push({
            host: String(ev.host),
            state: ev.state as StateChange['state'],
            t: ev.t as number,
            ...(ev.detail ? { detail: String(ev.detail) } : {}),
          });
        else if (ev.type === 'rounds') this.rounds = ev.rounds as number;
      },
    );
    await this.proc.ready('split-brain watcher');
    return this;
  }

  get pid(): number {
    return this.proc?.pid ?? 0;
  }
  /** True while its process runs. */
  get running(): boolean {
    return this.proc !== null && !this.proc.exited;
  }
  get user(): string {
    return this.proc?.user ?? '';
  }
  /** The uid the observer process runs as (reported by it). */
  get uid(): number {
    return this.proc?.uid ?? -1;
  }

  /** Latest observed state of every probed host. */
  current(): Record<string, StateChange['state']> {
    const out: Record<string, StateChange['state']> = {};
    for (const c of this.changes) out[c.host] = c.state;
    return out;
  }

  /** Waits until a condition on current() holds (e.g. a host became writable). */
  async waitFor(what: string, pred: (cur: Record<string, StateChange['state']>) => boolean, timeoutMs = 10_000): Promise<void> {
    await waitFor(what, () => pred(this.current()), timeoutMs, 20);
  }

  async stop(): Promise<{ violations: SplitBrainEvent[]; changes: StateChange[]; rounds: number }> {
    await this.proc?.stop();
    if (this.proc?.fatal) throw new Error(`split-brain watcher failed: ${this.proc.fatal}`);
    return { violations: this.violations, changes: this.changes, rounds: this.rounds };
  }
}

export interface CommitCheck {
  /** Acknowledged commits the server does not have. */
  missing: Ack[];
  /** Ids on the server that were never acknowledged (in-doubt writes that did commit). */
  unacknowledgedPresent: number[];
  /** Number of this writer's rows on the server. */
  present: number;
}

export interface Observers {
  startWriter(opts?: WriterOptions): Promise<Writer>;
  startSplitBrainWatcher(opts?: WatcherOptions): Promise<SplitBrainWatcher>;
  /** Compares a writer's acknowledged commits with what a host (the surviving master) holds. */
  checkCommits(writer: Writer | { name: string; acked: Ack[] }, hostName: string | Host): Promise<CommitCheck>;
  stopAll(): Promise<void>;
  pids(): number[];
}

export function createObservers(c: Cluster): Observers {
  const writers: Writer[] = [];
  const watchers: SplitBrainWatcher[] = [];
  let counter = 0;
  return {
    async startWriter(opts = {}) {
      const target = opts.target ?? c.target(opts.host ?? c.master);
      const w = new Writer(opts.name ?? `w${++counter}-${process.pid}`, target);
      writers.push(w);
      return w.start({ intervalMs: opts.intervalMs ?? 20, timeoutMs: opts.timeoutMs ?? 2000, runAs: opts.runAs ?? 'nobody' });
    },
    async startSplitBrainWatcher(opts = {}) {
      const hosts = (opts.hosts ?? c.postgresHosts).map((h) => c.host(h));
      const w = new SplitBrainWatcher(hosts.map((h) => ({ name: h.name, ...c.target(h) })));
      watchers.push(w);
      return w.start({ intervalMs: opts.intervalMs ?? 100, timeoutMs: opts.timeoutMs ?? 500, runAs: opts.runAs ?? 'nobody' });
    },
    async checkCommits(writer, hostName) {
      const rows = await c.query<{ id: string }>(hostName, 'SELECT id::text FROM harness_writes WHERE writer = $1', [writer.name], {
        timeoutMs: 15_000,
      });
      const have = new Set(rows.map((r) => Number(r.id)));
      const ackedIds = new Set(writer.acked.map((a) => a.id));
      return {
        missing: writer.acked.filter((a) => !have.has(a.id)),
        unacknowledgedPresent: [...have].filter((id) => !ackedIds.has(id)).sort((a, b) => a - b),
        present: have.size,
      };
    },
    async stopAll() {
      await Promise.all([...writers.map((w) => w.stop().catch(() => {})), ...watchers.map((w) => w.stop().catch(() => {}))]);
    },
    pids() {
      // Only running ones: the PID of an observer that exited may belong to another process by now.
      return [...writers, ...watchers].filter((w) => w.running).map((w) => w.pid).filter((p) => p > 0);
    },
  };
}
