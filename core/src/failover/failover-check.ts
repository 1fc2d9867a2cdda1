import 'reflect-metadata';
import { errorMessage, fail, success } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ReplicaPosition, ReturnDictionary, ServerDefinition } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { ActionLock } from '../actions/action-lock.js';
import { AlertService } from '../alerts/alert-service.js';
import { AvailabilityService } from '../availability/availability-service.js';
import type { ServerPoll } from '../availability/availability-service.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { SharedStateAccess } from '../di/tokens.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { serverStatus } from '../status/server-status.js';
import { ActingGuard } from '../cluster/acting-guard.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import { FailoverExecutor } from './failover-executor.js';
import type { FailoverResult } from './failover-executor.js';
import { judgeMaster } from './master-verdict.js';
import type { MasterEvidence, MasterVerdict, ProbeOutcome, ReplicaOpinion } from './master-verdict.js';
import { MaintenanceMode } from '../cluster/maintenance-mode.js';

/** failover_check's return dictionary: the RD plus what was decided and, after a failover, its report. */
export type FailoverCheckResult = ReturnDictionary<{
  verdict?: MasterVerdict['verdict'];
  failover?: FailoverResult;
  restarted?: boolean;
}>;

/**
 * `failover_check`: the core function of HandyRep. Checks every server,
 * and when the master failed, gathers evidence and acts by the rules of
 * ARCHITECTURE.md (certain death at once, ambiguity after the retry window,
 * a replica's word vetoes, restart first when configured).
 */
@injectable()
export class FailoverCheck {
  private actedLastTime = false;

  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
    @inject(FailoverExecutor) private readonly executor: FailoverExecutor,
    @inject(AlertService) private readonly alerts: AlertService,
    @inject(ClusterIssues) private readonly issues: ClusterIssues,
    @inject(ActionLock) private readonly lock: ActionLock,
    @inject(MaintenanceMode) private readonly maintenance: MaintenanceMode,
    @inject(ActingGuard) private readonly guard: ActingGuard,
    @inject(Tokens.sharedState) private readonly shared: SharedStateAccess,
  ) {}

  private get settings(): LoadedConfig['config']['failover'] {
    return this.loaded.config.failover;
  }

  /** Runs one check: poll (or verify) everything, then decide about the master. */
  async run(verify = false): Promise<FailoverCheckResult> {
    const acting = await this.guard.check();
    // Followers take the acting instance's definitions and statuses; a newly elected instance catches up before acting.
    if (!acting.acting || !this.actedLastTime) await this.shared.refresh();
    this.actedLastTime = acting.acting;
    const checkStarted = this.clock.now();
    const checks = verify ? await this.availability.verifyAll() : await this.availability.pollAll();
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
      this.issues.clear('master_unreachable');
      this.availability.refreshCluster();
      return success(`master ${master.name} is healthy and running`, { verdict: 'alive' });
    }
    return this.masterFailed(master, checkStarted);
  }

  /**
   * Reacts to a master that failed its check at `failingSince`; also the
   * entry point of the event-driven watcher (a dropped master connection).
   */
  async masterFailed(master: ServerDefinition, failingSince: number): Promise<FailoverCheckResult> {
    // Another instance acts: it handles the master; this one only keeps its statuses current.
    const acting = await this.guard.check();
    if (!acting.acting) {
      await this.availability.pollServer(this.registry.get(master.name));
      this.availability.refreshCluster();
      return success(`this is not the HandyRep master (${acting.acting_instance ?? 'no instance'} acts): leaving master ${master.name} to it`);
    }
    let evidence = await this.gatherEvidence(master, failingSince, false);
    let verdict = judgeMaster(evidence);
    // Right after a crash a replica may not have noticed its stream broke yet;
    // when everything else says certain death, ask again a moment later
    // instead of waiting out the whole retry window.
    for (let again = 0; again < 3 && verdict.verdict === 'ambiguous' && this.looksCertain(evidence); again += 1) {
      await this.clock.sleep(150);
      evidence = await this.gatherEvidence(master, failingSince, false);
      verdict = judgeMaster(evidence);
    }
    this.logger.info(`master ${master.name} failed its check: ${verdict.reason}`, { component: 'failover', verdict: verdict.verdict });

    const restarted = await this.tryRestart(master, evidence);
    if (restarted) return restarted;

    // The evidence above polled the master again: that was the first retry. The others are spaced
    // fail_retry_interval apart from the first failure, not after each poll's own time-out, so the
    // detection window is what the config says. The full verification runs together with the last
    // retry (its evidence includes that poll) rather than after it.
    const interval = this.settings.fail_retry_interval * 1000;
    for (let retry = 2; verdict.verdict === 'ambiguous' && retry < this.settings.fail_retries; retry += 1) {
      const wait = failingSince + (retry - 1) * interval - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait);
      const { outcome } = await this.availability.pollServer(this.registry.get(master.name));
      if (outcome === 'ok') {
        this.availability.refreshCluster();
        return success(`master ${master.name} answered again after ${retry} retries`, { verdict: 'alive' });
      }
    }
    if (verdict.verdict === 'ambiguous') {
      if (this.settings.fail_retries >= 2) {
        const wait = failingSince + (this.settings.fail_retries - 1) * interval - this.clock.now();
        if (wait > 0) await this.clock.sleep(wait);
      }
      const [verified, fresh] = await Promise.all([this.availability.verifyMaster(), this.gatherEvidence(master, failingSince, true)]);
      if (verified.result === 'SUCCESS' || fresh.poll === 'ok') {
        this.availability.refreshCluster();
        return success(`master ${master.name} answered again when verified: ${verified.details}`, { verdict: 'alive' });
      }
      evidence = fresh;
      verdict = judgeMaster(evidence);
      const restartedLate = await this.tryRestart(master, evidence);
      if (restartedLate) return restartedLate;
    }

    switch (verdict.verdict) {
      case 'alive':
        this.availability.refreshCluster();
        return success(`master ${master.name}: ${verdict.reason}`, { verdict: 'alive' });
      case 'cut_off_from_handyrep':
        this.registry.setStatus(master.name, serverStatus('warning', verdict.reason, this.clock.now()));
        this.issues.set('master_unreachable', verdict.reason);
        this.availability.refreshCluster();
        await this.alerts.send('status_warning', 'warning', `${verdict.reason}; not failing over`, master.name);
        return fail(`not safe to fail over: ${verdict.reason}`, { verdict: verdict.verdict });
      case 'ambiguous':
        this.availability.refreshCluster();
        await this.alerts.send('status_warning', 'warning', `master ${master.name}: ${verdict.reason}`, master.name);
        return fail(`master ${master.name} failed its checks, but not failing over: ${verdict.reason}`, { verdict: verdict.verdict });
      case 'dead':
        return this.failover(master, verdict.reason);
    }
  }

  private async failover(master: ServerDefinition, reason: string): Promise<FailoverCheckResult> {
    this.availability.refreshCluster();
    if (this.maintenance.paused()) {
      await this.alerts.send('cluster_down', 'critical', `master ${master.name} is down (${reason}); HandyRep is paused, so nothing is done`, master.name);
      return fail(`master ${master.name} is down (${reason}), but HandyRep is paused: no automatic action`, { verdict: 'dead' });
    }
    if (!this.settings.auto_failover) {
      await this.alerts.send('cluster_down', 'critical', `master ${master.name} is down (${reason}); auto_failover is off`, master.name);
      return fail(`master ${master.name} is down (${reason}); auto_failover is off`, { verdict: 'dead' });
    }
    try {
      const result = await this.lock.run('automatic failover', () =>
        this.executor.failover({ trigger: 'automatic', reason, remaster: this.settings.remaster, ignoreLagLimit: false, planned: false }),
      );
      return { result: result.result, details: result.details, verdict: 'dead', failover: result };
    } catch (err) {
      const details = `master ${master.name} is down (${reason}), but failover could not start: ${errorMessage(err)}`;
      this.issues.set('failover', details);
      this.availability.refreshCluster();
      await this.alerts.send('failover_failed', 'critical', details, master.name);
      return fail(details, { verdict: 'dead' });
    }
  }

  private looksCertain(evidence: MasterEvidence): boolean {
    return evidence.poll === 'refused' && (evidence.ssh === 'refused' || evidence.ssh === 'unreachable');
  }

  /**
   * restart_master: a master whose port refuses on a host that answers SSH,
   * and whose control plugin says it is not running, is restarted in place at
   * once rather than after the retry window.
   */
  private async tryRestart(master: ServerDefinition, evidence: MasterEvidence): Promise<FailoverCheckResult | undefined> {
    if (!this.settings.restart_master || this.maintenance.paused()) return undefined;
    if (evidence.ssh !== 'ok' || (evidence.poll !== 'refused' && !evidence.verified)) return undefined;
    let control;
    try {
      control = this.plugins.forServer('control', master.name);
      // A postmaster killed a moment ago can still look alive until its process is reaped: ask again briefly.
      let stopped = false;
      for (let attempt = 0; attempt < 4 && !stopped; attempt += 1) {
        if (attempt > 0) await this.clock.sleep(100);
        const status = await control.status(master.name);
        if (status.result !== 'SUCCESS') return undefined;
        stopped = !status.running;
      }
      if (!stopped) return undefined;
    } catch {
      return undefined;
    }
    const started = await control.start(master.name);
    if (started.result !== 'SUCCESS') {
      this.logger.warn(`restarting master ${master.name} failed: ${started.details}`, { server: master.name });
      return undefined;
    }
    const { outcome } = await this.availability.pollServer(this.registry.get(master.name));
    if (outcome !== 'ok') return undefined;
    this.registry.setStatus(master.name, serverStatus('healthy', 'master restarted in place by HandyRep (restart_master)', this.clock.now()));
    this.availability.refreshCluster();
    await this.alerts.send('status_warning', 'warning', `master ${master.name} had stopped and was restarted in place`, master.name);
    return success(`master ${master.name} was not running and has been restarted`, { verdict: 'dead' as const, restarted: true });
  }

  /** Probes SSH on the master and asks every replica about its WAL stream, all at once. */
  async gatherEvidence(master: ServerDefinition, failingSince: number, verified: boolean): Promise<MasterEvidence> {
    const status = this.plugins.byKey('replication_status', 'failover', 'replication_status_method');
    const replicas = this.registry.byRole('replica');
    // Measured before the replicas are asked: their "last heard" ages are read after this moment.
    const failingForMs = this.clock.now() - failingSince;
    const [poll, ssh, opinions] = await Promise.all([
      this.availability.pollServer(this.registry.get(master.name)),
      this.availability.probeSsh(master.name),
      Promise.all(replicas.map((replica) => this.opinionOf(replica.name, status?.position.bind(status)))),
    ]);
    return {
      masterHost: master.hostname,
      poll: (poll as ServerPoll).outcome,
      ssh: ssh as ProbeOutcome,
      replicas: opinions,
      failingForMs,
      verified,
    };
  }

  private async opinionOf(replica: string, position: ((name: string) => Promise<ReplicaPosition>) | undefined): Promise<ReplicaOpinion> {
    const silent: ReplicaOpinion = { replica, answered: false, receiverStatus: null, senderHost: null, lastMsgAgeMs: null };
    if (!position) return silent;
    try {
      const answer = await position(replica);
      if (answer.result !== 'SUCCESS') return silent;
      return {
        replica,
        answered: true,
        receiverStatus: answer.receiver_status,
        senderHost: answer.sender_host,
        lastMsgAgeMs: answer.last_msg_age_ms,
      };
    } catch {
      return silent;
    }
  }
}
