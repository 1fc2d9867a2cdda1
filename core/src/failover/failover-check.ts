import 'reflect-metadata';
import { errorMessage, fail, success } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ReturnDictionary, ServerDefinition } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { ActionLock } from '../actions/action-lock.js';
import { AlertService } from '../alerts/alert-service.js';
import { AvailabilityService } from '../availability/availability-service.js';
import { ActingGuard } from '../cluster/acting-guard.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import { MaintenanceMode } from '../cluster/maintenance-mode.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { SharedStateAccess } from '../di/tokens.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { serverStatus } from '../status/server-status.js';
import { ClusterObserver } from './cluster-observer.js';
import { decideMaster, QUICK_RECHECK_MS } from './decide.js';
import type { Episode, FailoverPolicy, MasterObservation, MasterStep } from './decide.js';
import { FailoverExecutor } from './failover-executor.js';
import type { FailoverResult } from './failover-executor.js';
import type { MasterEvidence, MasterVerdict } from './master-verdict.js';
import { JournalStore } from './failover-journal.js';
import { JournalRecovery } from './journal-recovery.js';
import { RepeatGuard } from './repeat-guard.js';
import { FormerMasters } from './former-masters.js';
import { DetachedMembers } from './detached-members.js';
import { SyncStandbys } from '../replication/sync-standbys.js';
import { ReplicationSlots } from '../replication/replication-slots.js';
import { SlotAdoption } from '../replication/slot-adoption.js';
import { formatStatusTimestamp } from '../status/status-time.js';
import type { StateStore } from '../state/state-store.js';

/** failover_check's return dictionary: the RD plus what was decided and, after a failover, its report. */
export type FailoverCheckResult = ReturnDictionary<{
  verdict?: MasterVerdict['verdict'];
  failover?: FailoverResult;
  restarted?: boolean;
  /** The master is down on purpose: this action (a restart, a switchover) holds the action lock. */
  planned_outage?: string;
}>;

/** The verdict reported with each final step. */
const VERDICT_OF: Record<MasterStep['step'], MasterVerdict['verdict']> = {
  healthy: 'alive',
  restart: 'dead',
  observe: 'ambiguous',
  warn_cut_off: 'cut_off_from_handyrep',
  hold: 'ambiguous',
  refuse: 'dead',
  failover: 'dead',
};

/** An episode cannot loop for ever: far more steps than any policy needs. */
const MAX_STEPS = 64;

/**
 * `failover_check`: checks every server and, when the master failed, runs
 * observe → decide → act until the rules (decide.ts) reach a conclusion.
 */
@injectable()
export class FailoverCheck {
  private actedLastTime = false;
  private readonly journal: JournalStore;
  private readonly repeats = new RepeatGuard();

  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
    @inject(ClusterObserver) private readonly observer: ClusterObserver,
    @inject(FailoverExecutor) private readonly executor: FailoverExecutor,
    @inject(AlertService) private readonly alerts: AlertService,
    @inject(ClusterIssues) private readonly issues: ClusterIssues,
    @inject(ActionLock) private readonly lock: ActionLock,
    @inject(MaintenanceMode) private readonly maintenance: MaintenanceMode,
    @inject(ActingGuard) private readonly guard: ActingGuard,
    @inject(Tokens.sharedState) private readonly shared: SharedStateAccess,
    @inject(JournalRecovery) private readonly recovery: JournalRecovery,
    @inject(SyncStandbys) private readonly sync: SyncStandbys,
    @inject(FormerMasters) private readonly formerMasters: FormerMasters,
    @inject(Tokens.stateStore) stateStore: StateStore,
    @inject(ReplicationSlots) private readonly slots: ReplicationSlots,
    @inject(DetachedMembers) private readonly detachedMembers: DetachedMembers,
    @inject(SlotAdoption) private readonly slotAdoption: SlotAdoption,
  ) {
    this.journal = new JournalStore(registry, stateStore);
  }

  private policy(): FailoverPolicy {
    const settings = this.loaded.config.failover;
    return {
      autoFailover: settings.auto_failover,
      paused: this.maintenance.paused(),
      restartMaster: settings.restart_master,
      failRetries: settings.fail_retries,
      failRetryIntervalMs: settings.fail_retry_interval * 1000,
      unreachableMasterPolicy: settings.unreachable_master_policy,
    };
  }

  /** Runs one check: poll (or verify) everything, then decide about the master. */
  async run(verify = false): Promise<FailoverCheckResult> {
    const acting = await this.guard.check();
    // Followers take the acting instance's definitions and statuses; a newly elected instance catches up before acting.
    if (!acting.acting || !this.actedLastTime) await this.shared.refresh();
    this.actedLastTime = acting.acting;
    // An unresolved failover is looked at again on every check, so it is settled as soon as the candidate's state is known.
    if (acting.acting && this.journal.current()) await this.lock.run('resolving an interrupted failover', () => this.recovery.resolve()).catch(() => 'pending');
    const checkStarted = this.clock.now();
    const [polled] = await Promise.all([this.availability.pollAll(), acting.acting ? this.formerMasters.check() : Promise.resolve([])]);
    // A verification cycle polls first: a master that fails its poll is acted on at once, not after the
    // verification has waited out every check that needs it (replicas' lag read on the master, for one).
    const checks = verify && polled.result === 'SUCCESS' ? await this.availability.verifyAll() : polled;
    if (!acting.acting) {
      return success(`this is not the HandyRep master (${acting.acting_instance ?? 'no instance'} acts)${acting.details ? `: ${acting.details}` : ''}`);
    }
    const masters = this.registry.masters();
    if (masters.length !== 1) {
      await this.alerts.send('cluster_down', 'critical', checks.details);
      return fail(checks.details);
    }
    const master = masters[0] as ServerDefinition;
    if (checks.result === 'SUCCESS') {
      // The master answered: whatever was concluded about its last failure is no guide to the next one.
      this.repeats.clear();
      this.issues.clear('master_unreachable');
      this.availability.refreshCluster();
      // Before the synchronous set is maintained, so re-attached members can count in it again.
      await this.reattachDetachedMembers(master.name);
      await this.maintainSyncStandbys();
      await this.maintainSlots();
      return success(`master ${master.name} is healthy and running`, { verdict: 'alive' });
    }
    return this.masterFailed(master, checkStarted);
  }

  /** Re-attaches standbys a quorum fence left detached, unless a failover is unresolved (it may still need them). Never throws. */
  private async reattachDetachedMembers(master: string): Promise<void> {
    if (this.detachedMembers.recorded().length === 0 || this.journal.current()) return;
    await this.lock
      .run('re-attaching standbys detached by a quorum fence', () => this.detachedMembers.reattach(master), { brief: true })
      .catch((err: unknown) => this.logger.warn(`re-attaching detached standbys waits for the next check: ${errorMessage(err)}`, { component: 'failover' }));
  }

  /** Brings the synchronous set in line with the healthy replicas (synchronous_mode); skipped while another action runs. */
  private async maintainSyncStandbys(): Promise<void> {
    const result = await this.sync.maintain((work) => this.lock.run('changing the synchronous standbys', work, { brief: true }));
    if (result.result === 'FAIL') this.logger.warn(result.details, { component: 'sync' });
  }

  /**
   * Drops the master's slots the rules say to drop (slot_retention_hours,
   * removed servers), refreshes their figures, then gives replicas that
   * stream without their slot their slot.
   */
  private async maintainSlots(): Promise<void> {
    const result = await this.slots.upkeep((work) => this.lock.run('dropping replication slots', work, { brief: true }));
    if (result.result === 'FAIL') this.logger.warn(result.details, { component: 'slots' });
    if (!result.slots) return;
    const adopted = await this.slotAdoption.adopt(result.slots, (label, work) => this.lock.run(label, work, { brief: true }));
    // get_status shows the adopted slots active now, not one check later.
    if (adopted.length > 0) await this.slots.upkeep((work) => this.lock.run('dropping replication slots', work, { brief: true }));
  }

  /**
   * Reacts to a master that failed its check at `failingSince`; also the
   * entry point of the event-driven watcher (a dropped master connection).
   */
  async masterFailed(master: ServerDefinition, failingSince: number): Promise<FailoverCheckResult> {
    const acting = await this.guard.check();
    if (!acting.acting) {
      // Another instance acts: it handles the master; this one only keeps its statuses current.
      await this.availability.pollServer(this.registry.get(master.name));
      this.availability.refreshCluster();
      return success(`this is not the HandyRep master (${acting.acting_instance ?? 'no instance'} acts): leaving master ${master.name} to it`);
    }
    const planned = this.lock.current();
    if (planned?.expectedDown === master.name) {
      this.availability.refreshCluster();
      return success(`master ${master.name} is down on purpose while ${planned.action} runs: no failover`, { planned_outage: planned.action });
    }
    const episode: Episode = { failingSince, now: this.clock.now(), retries: 1, quickRechecks: 0, restartAttempts: 0 };
    let observation = await this.observer.observeMaster(master, failingSince, false);
    for (let steps = 0; steps < MAX_STEPS; steps += 1) {
      episode.now = this.clock.now();
      const step = decideMaster(observation, episode, this.policy());
      if (steps === 0) this.logger.info(`master ${master.name} failed its check: ${step.reason}`, { component: 'failover', step: step.step });
      if (step.step === 'observe') {
        observation = await this.observeAgain(master, episode, step);
        continue;
      }
      if (step.step === 'restart') {
        episode.restartAttempts += 1;
        const restarted = await this.tryRestart(master);
        if (restarted) return restarted;
        // Declined or failed: look again shortly rather than at the next retry slot.
        observation = await this.observeAgain(master, episode, { step: 'observe', atMs: this.clock.now() + QUICK_RECHECK_MS, kind: 'quick', reason: 'restart declined' });
        continue;
      }
      return this.concludeOnce(master, step, observation);
    }
    return fail(`master ${master.name}: no decision after ${MAX_STEPS} steps; not failing over`);
  }

  private async observeAgain(master: ServerDefinition, episode: Episode, step: Extract<MasterStep, { step: 'observe' }>): Promise<MasterObservation> {
    const wait = step.atMs - this.clock.now();
    if (wait > 0) await this.clock.sleep(wait);
    if (step.kind === 'quick') episode.quickRechecks += 1;
    else episode.retries += 1;
    return this.observer.observeMaster(master, episode.failingSince, step.kind === 'verify');
  }

  /**
   * A conclusion HandyRep does not act on is alerted once: the same step on
   * the same evidence (a refused failover above all) is not re-run every
   * cycle, and is re-alerted at most once per alert_repeat_minutes.
   */
  private async concludeOnce(master: ServerDefinition, step: MasterStep, observation: MasterObservation): Promise<FailoverCheckResult> {
    if (step.step === 'healthy') {
      this.repeats.clear();
      return this.conclude(master, step, observation);
    }
    // An unresolved failover that gets resolved is new evidence too.
    const key = `${step.step}|${this.journal.current()?.id ?? ''}`;
    const earlier = this.repeats.same(master.name, key, observation.evidence);
    // Once per alert_repeat_minutes the same conclusion is reached again for real: that run is the reminder.
    if (earlier && !this.repeats.reminderDue(this.clock.now(), this.loaded.config.failover.alert_repeat_minutes)) {
      this.availability.refreshCluster();
      return fail(`${earlier.details} (unchanged since ${formatStatusTimestamp(earlier.since)} UTC: no new evidence, not re-run)`, { verdict: VERDICT_OF[step.step] });
    }
    const result = await this.conclude(master, step, observation);
    if (result.result === 'SUCCESS') this.repeats.clear();
    else if (!earlier) this.repeats.remember(master.name, key, observation.evidence, result.details, this.clock.now());
    return result;
  }

  /** Acts on a final step. */
  private async conclude(master: ServerDefinition, step: MasterStep, observation: MasterObservation): Promise<FailoverCheckResult> {
    switch (step.step) {
      case 'healthy':
        this.availability.refreshCluster();
        return success(`master ${master.name} answered again: ${step.reason}`, { verdict: 'alive' });
      case 'warn_cut_off':
        this.registry.setStatus(master.name, serverStatus('warning', step.reason, this.clock.now()));
        this.issues.set('master_unreachable', step.reason);
        this.availability.refreshCluster();
        await this.alerts.send('status_warning', 'warning', `${step.reason}; not failing over`, master.name);
        return fail(`not safe to fail over: ${step.reason}`, { verdict: 'cut_off_from_handyrep' });
      case 'hold':
        this.availability.refreshCluster();
        await this.alerts.send('status_warning', 'warning', `master ${master.name}: ${step.reason}`, master.name);
        return fail(`master ${master.name} failed its checks, but not failing over: ${step.reason}`, { verdict: 'ambiguous' });
      case 'refuse':
        this.availability.refreshCluster();
        await this.alerts.send('cluster_down', 'critical', `master ${master.name} is down: ${step.reason}`, master.name);
        return fail(`master ${master.name} is down: ${step.reason}: no automatic action`, { verdict: 'dead' });
      case 'failover':
        return this.failover(master, step.reason, observation.evidence);
      default:
        return fail(`master ${master.name}: unexpected step ${step.step} (${observation.evidence.poll})`);
    }
  }

  private async failover(master: ServerDefinition, reason: string, evidence: MasterEvidence): Promise<FailoverCheckResult> {
    this.availability.refreshCluster();
    try {
      const result = await this.lock.run('automatic failover', () =>
        this.executor.failover({ trigger: 'automatic', reason, remaster: this.loaded.config.failover.remaster, ignoreLagLimit: false, planned: false, masterEvidence: evidence }),
      );
      this.logger.info(`automatic failover ${result.result}: ${result.details}`, {
        component: 'failover',
        old_master: result.old_master,
        new_master: result.new_master,
        fenced_by: result.fenced_by ?? null,
        writable_after_ms: result.writable_after_ms ?? null,
        duration_ms: result.duration_ms,
      });
      return { result: result.result, details: result.details, verdict: 'dead', failover: result };
    } catch (err) {
      const details = `master ${master.name} is down (${reason}), but failover could not start: ${errorMessage(err)}`;
      this.issues.set('failover', details);
      this.availability.refreshCluster();
      await this.alerts.send('failover_failed', 'critical', details, master.name);
      return fail(details, { verdict: 'dead' });
    }
  }

  /**
   * restart_master: the control plugin must say the master is not running
   * (asked a few times: a postmaster killed a moment ago looks alive until
   * it is reaped), then it is started and must answer a poll.
   */
  private async tryRestart(master: ServerDefinition): Promise<FailoverCheckResult | undefined> {
    let control;
    try {
      control = this.plugins.forServer('control', master.name);
      let stopped = false;
      for (let attempt = 0; attempt < 4 && !stopped; attempt += 1) {
        if (attempt > 0) await this.clock.sleep(100);
        const status = await control.status(master.name);
        if (status.result !== 'SUCCESS') return undefined;
        stopped = !status.running;
      }
      if (!stopped) return undefined;
      const started = await control.start(master.name);
      if (started.result !== 'SUCCESS') {
        this.logger.warn(`restarting master ${master.name} failed: ${started.details}`, { server: master.name });
        return undefined;
      }
    } catch (err) {
      this.logger.warn(`restarting master ${master.name} failed: ${errorMessage(err)}`, { server: master.name });
      return undefined;
    }
    const { outcome } = await this.availability.pollServer(this.registry.get(master.name));
    if (outcome !== 'ok') return undefined;
    this.registry.setStatus(master.name, serverStatus('healthy', 'master restarted in place by HandyRep (restart_master)', this.clock.now()));
    this.availability.refreshCluster();
    await this.alerts.send('status_warning', 'warning', `master ${master.name} had stopped and was restarted in place`, master.name);
    return success(`master ${master.name} was not running and has been restarted`, { verdict: 'dead' as const, restarted: true });
  }
}
