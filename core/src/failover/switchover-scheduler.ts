import 'reflect-metadata';
import { errorMessage, fail, success } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ReturnDictionary } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { ActionApi } from '../actions/action-api.js';
import { ActionLock } from '../actions/action-lock.js';
import { AlertService } from '../alerts/alert-service.js';
import { booleanArgument, stringArgument } from '../api/arguments.js';
import { AvailabilityService } from '../availability/availability-service.js';
import { ActingGuard } from '../cluster/acting-guard.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import { MaintenanceMode } from '../cluster/maintenance-mode.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import type { StateStore } from '../state/state-store.js';
import { FailoverExecutor } from './failover-executor.js';
import type { FailoverResult } from './failover-executor.js';
import { JOURNAL_KEY } from './failover-journal.js';
import { SCHEDULE_KEY, asScheduledSwitchover, decideScheduled, parseSwitchoverTime } from './scheduled-switchover.js';
import type { ScheduledSwitchover } from './scheduled-switchover.js';

/** What `manual_failover` with `at` and `cancel_switchover` return: the RD plus the pending entry concerned. */
export type ScheduleResult = ReturnDictionary<{ scheduled_switchover?: ScheduledSwitchover }>;

/** `→ pg2` or `→ best candidate`, for messages. */
function targetText(entry: ScheduledSwitchover): string {
  return entry.newmaster === null ? 'to the best candidate' : `to ${entry.newmaster}`;
}

/**
 * Switchovers asked for at a later time. The pending one lives in the saved
 * state (so it survives restarts); the monitor calls `run()` after every
 * check and at the due time, and it runs through manual_failover (same lock,
 * same journal) only when the rules of scheduled-switchover.ts and a fresh
 * look at the master and the candidates allow it; otherwise it is cancelled
 * with an alert.
 */
@injectable()
export class SwitchoverScheduler {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.stateStore) private readonly stateStore: StateStore,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(ActionLock) private readonly lock: ActionLock,
    @inject(ActionApi) private readonly actions: ActionApi,
    @inject(AlertService) private readonly alerts: AlertService,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
    @inject(ActingGuard) private readonly guard: ActingGuard,
    @inject(ClusterIssues) private readonly issues: ClusterIssues,
    @inject(MaintenanceMode) private readonly maintenance: MaintenanceMode,
    @inject(FailoverExecutor) private readonly executor: FailoverExecutor,
  ) {}

  /** The pending switchover, if any. */
  pending(): ScheduledSwitchover | undefined {
    return asScheduledSwitchover(this.registry.getExtra(SCHEDULE_KEY));
  }

  /** When the pending switchover is due (ms since the epoch), or undefined. */
  dueAt(): number | undefined {
    const pending = this.pending();
    return pending === undefined ? undefined : Date.parse(pending.at);
  }

  /** Calls `listener` whenever the pending switchover may have changed; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    return this.registry.onChange((change) => {
      if (change.kind === 'cluster' || (change.kind === 'extra' && change.key === SCHEDULE_KEY)) listener();
    });
  }

  /**
   * `manual_failover` with `at`: checks now what an immediate switchover
   * would (a master that answers, the named replica or an eligible
   * candidate), then saves the pending switchover. Bad input or a refused
   * check changes nothing.
   */
  async schedule(newmaster: unknown, remaster: unknown, ignoreLagLimit: unknown, at: unknown): Promise<ScheduleResult> {
    const atMs = parseSwitchoverTime(at, this.clock.now());
    const target = newmaster === null || newmaster === undefined ? null : this.registry.get(stringArgument('newmaster', newmaster)).name;
    const doRemaster = booleanArgument('remaster', remaster, this.loaded.config.failover.remaster);
    const override = booleanArgument('ignore_lag_limit', ignoreLagLimit, false);
    return this.lock.run('scheduling a switchover', async () => {
      const existing = this.pending();
      if (existing) {
        return fail(`a switchover ${targetText(existing)} is already scheduled for ${existing.at}; cancel it first (cancel_switchover)`, { scheduled_switchover: existing });
      }
      const master = this.registry.master();
      if (!master) return fail('no enabled master to switch over from');
      if (target === master.name) return fail(`${target} is already the master`);
      if (this.registry.getExtra(JOURNAL_KEY) !== undefined) return fail('a failover is in progress or was interrupted; see the cluster issues');
      const { outcome } = await this.availability.pollServer(master);
      if (outcome !== 'ok') return fail(`master ${master.name} does not answer (${outcome}): a switchover needs a running master`);
      const candidates = await this.executor.switchoverCandidates(target, override);
      if (candidates.result === 'FAIL') return fail(`switchover not scheduled: ${candidates.details}`);
      const entry: ScheduledSwitchover = {
        at: new Date(atMs).toISOString(),
        newmaster: target,
        remaster: doRemaster,
        ignore_lag_limit: override,
        master: master.name,
        requested_at: new Date(this.clock.now()).toISOString(),
      };
      this.registry.setExtra(SCHEDULE_KEY, entry);
      try {
        await this.stateStore.saveOrThrow();
      } catch (err) {
        this.registry.setExtra(SCHEDULE_KEY, undefined);
        return fail(`switchover not scheduled: ${errorMessage(err)}`);
      }
      this.logger.info(`switchover from ${master.name} ${targetText(entry)} scheduled for ${entry.at}`, { component: 'scheduler' });
      return success(`switchover scheduled for ${entry.at}`, { scheduled_switchover: entry });
    });
  }

  /** `cancel_switchover`: removes the pending switchover; FAIL when none is pending. */
  async cancel(): Promise<ScheduleResult> {
    const pending = this.pending();
    if (!pending) return fail('no switchover is scheduled');
    await this.remove();
    this.logger.info(`scheduled switchover ${targetText(pending)} at ${pending.at} cancelled by request`, { component: 'scheduler' });
    return success(`switchover ${targetText(pending)} scheduled for ${pending.at} cancelled`, { scheduled_switchover: pending });
  }

  /**
   * Looks at the pending switchover: cancels it when the rules rule it out,
   * runs it when it is due and the cluster is healthy. Only the acting
   * HandyRep instance does anything. Never throws.
   */
  async run(): Promise<void> {
    try {
      if (!this.pending() || !(await this.guard.check()).acting) return;
      const pending = this.pending();
      if (!pending) return;
      const step = decideScheduled(pending, {
        nowMs: this.clock.now(),
        graceMs: this.loaded.config.failover.switchover_grace_seconds * 1000,
        master: this.registry.master()?.name ?? null,
        failoverInProgress: this.registry.getExtra(JOURNAL_KEY) !== undefined,
        failedFailover: this.issues.get('failover') ?? this.issues.get('interrupted_failover'),
        paused: this.maintenance.paused(),
      });
      if (step.step === 'wait') return;
      if (step.step === 'cancel') return await this.cancelBecause(pending, step.reason);
      const refusal = await this.healthRefusal(pending);
      if (refusal !== undefined) return await this.cancelBecause(pending, refusal);
      await this.start(pending, step.lateMs);
    } catch (err) {
      this.logger.error(`scheduled switchover check failed: ${errorMessage(err)}`, { component: 'scheduler' });
    }
  }

  /** Why the cluster is not fit for the switchover right now, or undefined when it is. */
  private async healthRefusal(pending: ScheduledSwitchover): Promise<string | undefined> {
    const holder = this.lock.current();
    // A brief housekeeping holder is waited for by manual_failover; any other action would refuse it.
    if (holder && !holder.brief) return `${holder.action} is running`;
    const { outcome } = await this.availability.pollServer(this.registry.get(pending.master));
    if (outcome !== 'ok') return `master ${pending.master} does not answer (${outcome})`;
    const candidates = await this.executor.switchoverCandidates(pending.newmaster, pending.ignore_lag_limit);
    return candidates.result === 'FAIL' ? candidates.details : undefined;
  }

  /** Runs the due switchover, after removing it so that it can never run twice (the failover journal covers a crash from here). */
  private async start(pending: ScheduledSwitchover, lateMs: number): Promise<void> {
    if (this.pending()?.requested_at !== pending.requested_at) return;
    await this.remove();
    this.logger.info(`scheduled switchover from ${pending.master} ${targetText(pending)} starting: due ${pending.at}, ${lateMs} ms late`, { component: 'scheduler', late_ms: lateMs });
    let result: FailoverResult | ReturnDictionary;
    try {
      result = await this.actions.manualFailover(pending.newmaster, pending.remaster, pending.ignore_lag_limit);
    } catch (err) {
      result = fail(errorMessage(err));
    }
    if (result.result === 'SUCCESS') {
      const figures = 'steps' in result ? { duration_ms: result.duration_ms, writable_after_ms: result.writable_after_ms } : {};
      this.logger.info(`scheduled switchover due ${pending.at} done: ${result.details}`, { component: 'scheduler', ...figures });
      return;
    }
    this.logger.error(`scheduled switchover due ${pending.at} failed: ${result.details}`, { component: 'scheduler' });
    await this.alerts.send('failover_failed', 'critical', `scheduled switchover from ${pending.master} ${targetText(pending)} due ${pending.at} failed: ${result.details}`, pending.master);
  }

  private async cancelBecause(pending: ScheduledSwitchover, reason: string): Promise<void> {
    await this.remove();
    const message = `scheduled switchover from ${pending.master} ${targetText(pending)} due ${pending.at} cancelled: ${reason}`;
    this.logger.warn(message, { component: 'scheduler' });
    await this.alerts.send('status_warning', 'warning', message, pending.master);
  }

  /** Removes the pending switchover and saves; a failed save is logged (the in-memory state is right, the next change saves again). */
  private async remove(): Promise<void> {
    this.registry.setExtra(SCHEDULE_KEY, undefined);
    await this.stateStore.saveOrThrow().catch((err: unknown) => this.logger.error(`could not save the removal of the scheduled switchover: ${errorMessage(err)}`, { component: 'scheduler' }));
  }
}
