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
    this.schedule(0);
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

  private exclusive(kind: 'poll' | 'verify' | 'event', work: () => Promise<FailoverCheckResult | undefined>): Promise<void> {
    const next = this.running.then(async () => {
      if (this.stopped) return;
      try {
        const result = await work();
        if (result) {
          if (result.result === 'FAIL') this.logger.warn(`failover_check (${kind}): ${result.details}`, { component: 'monitor' });
          for (const listener of this.listeners) listener(result, kind);
        }
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
    this.watcher.close();
    await this.running;
  }

  /** Milliseconds since the epoch, for listeners that time things. */
  now(): number {
    return this.clock.now();
  }
}
