import { errorMessage } from '@handyrep/plugin-sdk';
import type { Clock, Logger } from '@handyrep/plugin-sdk';
import type { AlertService } from '../alerts/alert-service.js';
import type { FailoverCheck, FailoverCheckResult } from '../failover/failover-check.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import type { MasterWatcher } from './master-watcher.js';

/** Timing of the periodic checks. */
export interface MonitorSettings {
  /** Seconds between checks. */
  pollInterval: number;
  /** Every Nth check verifies. */
  verifyFrequency: number;
}

/** Work due at a set time (a scheduled switchover), run in turn with the checks. */
export interface TimedWork {
  /** When the work is next due (ms since the epoch), or undefined when nothing is pending. */
  dueAt(): number | undefined;
  /** Looks at what is pending: cancels what can no longer run, runs what is due. Never throws. */
  run(): Promise<void>;
  /** Calls `listener` when what is pending may have changed; returns a function that stops it. */
  onChange(listener: () => void): () => void;
}

/** Longest single wait for timed work: setTimeout cannot wait longer than about 24.8 days, and a shorter wait re-reads the due time. */
const MAX_TIMED_WAIT_MS = 3_600_000;

/** What the monitor reports after each check (for the daemon, metrics and tests). */
export type CheckListener = (result: FailoverCheckResult, kind: 'poll' | 'verify' | 'event') => void;

/**
 * The periodic loop plus the event-driven trigger: failover_check every
 * poll_interval (verifying every verify_frequency cycles), and at once when
 * the held master connection drops. One check at a time; an exception in a
 * cycle is logged and alerted, and the next cycle runs.
 */
export class Monitor {
  private timer: NodeJS.Timeout | undefined;
  private timedTimer: NodeJS.Timeout | undefined;
  private stopTimedWatch: (() => void) | undefined;
  private cycle = 0;
  private running: Promise<void> = Promise.resolve();
  private stopped = true;
  private readonly listeners = new Set<CheckListener>();

  constructor(
    private readonly check: FailoverCheck,
    private readonly watcher: MasterWatcher,
    private readonly registry: ServerRegistry,
    private readonly alerts: AlertService,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly settings: () => MonitorSettings,
    private readonly timed?: TimedWork,
  ) {}

  /** Registers a listener for check results; returns a function that removes it. */
  onCheck(listener: CheckListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the loop (the first check runs at once). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stopTimedWatch = this.timed?.onChange(() => this.armTimed());
    this.schedule(0);
    this.armTimed();
  }

  /** True while the loop runs. */
  isRunning(): boolean {
    return !this.stopped;
  }

  /** Called by the watcher when the master connection drops. */
  masterLost(master: string, lostAt: number): void {
    if (this.stopped) return;
    this.exclusive('event', async () => {
      const current = this.registry.master();
      if (!current || current.name !== master) return undefined;
      return this.check.masterFailed(current, lostAt);
    });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.cycle += 1;
      const { verifyFrequency } = this.settings();
      const verify = this.cycle % verifyFrequency === 0;
      this.exclusive(verify ? 'verify' : 'poll', () => this.check.run(verify)).finally(() => {
        this.schedule(this.settings().pollInterval * 1000);
      });
    }, delayMs);
    // Not unref'd: a running monitor keeps the process alive until stop() (or HandyRep.close()).
  }

  /** Sets the timer for the next timed work (at once when overdue); the run itself waits its turn after any check. */
  private armTimed(): void {
    if (this.timedTimer) clearTimeout(this.timedTimer);
    this.timedTimer = undefined;
    const due = this.timed?.dueAt();
    if (this.stopped || due === undefined || !this.timed) return;
    const timed = this.timed;
    const wait = Math.min(Math.max(0, due - this.clock.now()), MAX_TIMED_WAIT_MS);
    this.timedTimer = setTimeout(() => {
      this.timedTimer = undefined;
      void this.exclusive('timed', async () => {
        await timed.run();
        return undefined;
      }).finally(() => this.armTimed());
    }, wait);
  }

  private exclusive(kind: 'poll' | 'verify' | 'event' | 'timed', work: () => Promise<FailoverCheckResult | undefined>): Promise<void> {
    const next = this.running.then(async () => {
      if (this.stopped) return;
      try {
        const result = await work();
        if (result && kind !== 'timed') {
          if (result.result === 'FAIL') this.logger.warn(`failover_check (${kind}): ${result.details}`, { component: 'monitor' });
          for (const listener of this.listeners) listener(result, kind);
        }
        // After every check: a failover or a master change it found cancels timed work at once, not at its time.
        if (kind !== 'timed') await this.timed?.run();
        await this.keepWatching();
      } catch (err) {
        this.logger.error(`failover_check (${kind}) threw: ${errorMessage(err)}`, { component: 'monitor' });
        await this.alerts.send('internal_error', 'critical', `failover_check (${kind}) threw: ${errorMessage(err)}`).catch(() => undefined);
      }
    });
    this.running = next;
    return next;
  }

  /** Keeps the held connection on the current, healthy master. */
  private async keepWatching(): Promise<void> {
    const master = this.registry.master();
    if (!master || master.status !== 'healthy' && master.status !== 'warning' && master.status !== 'lagged') {
      this.watcher.release();
      return;
    }
    if (this.watcher.watched() !== master.name) await this.watcher.watch(master.name);
  }

  /** Stops the loop and waits for the check in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.timedTimer) clearTimeout(this.timedTimer);
    this.stopTimedWatch?.();
    this.watcher.close();
    await this.running;
  }

  /** Milliseconds since the epoch, for listeners that time things. */
  now(): number {
    return this.clock.now();
  }
}
