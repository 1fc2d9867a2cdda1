import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { errorMessage, fail, parseLsn, success, withTimeout } from '@handyrep/plugin-sdk';
import type { Clock, Logger, RemoteShell, ReturnDictionary, ServerDefinition, SqlClient } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { AlertService } from '../alerts/alert-service.js';
import { AvailabilityService } from '../availability/availability-service.js';
import { ActingGuard } from '../cluster/acting-guard.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { RemasterService } from '../replication/remaster-service.js';
import type { StateStore } from '../state/state-store.js';
import { serverStatus } from '../status/server-status.js';
import { formatStatusTimestamp } from '../status/status-time.js';
import { buildCandidates, checkNamedCandidate, checkSelection } from './candidates.js';
import type { ReplicaFacts } from './candidates.js';
import { ClusterObserver } from './cluster-observer.js';
import { decideFailedPromotion, decideFence, silentPoll } from './decide.js';
import type { FailedPromotionStep } from './decide.js';
import { JournalStore } from './failover-journal.js';
import type { FailoverJournal } from './failover-journal.js';
import { FailoverRun } from './failover-run.js';
import { DetachedMembers } from './detached-members.js';
import type { MasterEvidence } from './master-verdict.js';
import { swapMaster } from './swap-master.js';
import { JournalRecovery } from './journal-recovery.js';
import type { FailoverResult, FencedBy, StepOutcome } from './failover-run.js';
import { QuorumFence } from './quorum-fence.js';
import { SyncStandbys } from '../replication/sync-standbys.js';
import { ReplicationSlots } from '../replication/replication-slots.js';

export type { FailoverResult, FailoverStep } from './failover-run.js';

/** What to fail over, and how. */
export interface FailoverRequest {
  /** automatic (from failover_check) or manual (manual_failover). */
  trigger: 'automatic' | 'manual';
  /** Why, for the log and alerts. */
  reason: string;
  /** A replica to promote (manual); the selection otherwise. */
  newmaster?: string;
  /** Point the other replicas at the new master. */
  remaster: boolean;
  /** Ignore the failover lag limit (manual, explicit). */
  ignoreLagLimit: boolean;
  /** The old master still runs and should be stopped cleanly (planned switchover). */
  planned: boolean;
  /** What the check found about the old master (automatic failovers): a silent host is not fenced over SSH again. */
  masterEvidence?: MasterEvidence;
}

/** The replicas whose WAL receiver streams right now. */
function streamingNow(facts: readonly ReplicaFacts[]): Set<string> {
  return new Set(facts.filter((fact) => fact.position?.result === 'SUCCESS' && fact.position.receiver_status === 'streaming').map((fact) => fact.server.name));
}

/** Silence on both the PostgreSQL port and SSH: fencing over the network would only run into time-outs. */
function hostSilent(evidence: MasterEvidence | undefined): boolean {
  const silent = (outcome: string): boolean => outcome === 'timeout' || outcome === 'unreachable';
  return evidence !== undefined && silent(evidence.poll) && silent(evidence.ssh);
}

/** How the old master was fenced; `only` restricts the candidates (the members a quorum fence detached). */
interface FenceOutcome {
  fencedBy: FencedBy;
  only?: string[];
  /** Undoes a quorum fence (re-attaches the members) when nothing was promoted after it. */
  undo?: () => Promise<void>;
}

/** How a promotion attempt ended: SUCCESS, or FAIL with whether the request may have reached the server. */
type PromotionAttempt = StepOutcome<{ promoteSent: boolean | null }>;

/** The outcome of the promotion phase. */
type PromotionPhase = { newMaster: string } | { newMaster: null; details: string; unresolved: boolean };

const QUICK_SQL_MS = 3000;

/**
 * The plan runner of a failover: journal, select, fence, promote and
 * confirm, then registry, proxies, remaster, extra commands, alerts. The
 * rules come from decide.ts; this class only carries them out, journals
 * before each irreversible step (and stops when it cannot), checks the
 * acting guard between steps, bounds promotions by promotion_timeout, and
 * never lets an alert hold up fencing or promotion.
 */
@injectable()
export class FailoverExecutor {
  private readonly outcomes = { SUCCESS: 0, FAIL: 0 };
  private readonly journal: JournalStore;

  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.shell) private readonly shell: RemoteShell,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(Tokens.stateStore) private readonly stateStore: StateStore,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
    @inject(ClusterObserver) private readonly observer: ClusterObserver,
    @inject(RemasterService) private readonly remasterService: RemasterService,
    @inject(AlertService) private readonly alerts: AlertService,
    @inject(ClusterIssues) private readonly issues: ClusterIssues,
    @inject(ActingGuard) private readonly guard: ActingGuard,
    @inject(JournalRecovery) private readonly recovery: JournalRecovery,
    @inject(QuorumFence) private readonly quorumFence: QuorumFence,
    @inject(SyncStandbys) private readonly sync: SyncStandbys,
    @inject(ReplicationSlots) private readonly slots: ReplicationSlots,
    @inject(DetachedMembers) private readonly detachedMembers: DetachedMembers,
  ) {
    this.journal = new JournalStore(registry, stateStore);
  }

  private get settings(): LoadedConfig['config']['failover'] {
    return this.loaded.config.failover;
  }

  /** Runs a failover. The caller holds the action lock. */
  async failover(request: FailoverRequest): Promise<FailoverResult> {
    const masterBefore = this.registry.master();
    const resolution = await this.recovery.resolve();
    const oldMaster = this.registry.master();
    const run = new FailoverRun(this.clock, this.logger, oldMaster?.name ?? null);
    const interrupted = resolution === 'pending' ? this.journal.current() : undefined;
    if (interrupted) {
      const details = `an earlier failover from ${interrupted.old_master} (candidate ${interrupted.candidate ?? 'none'}) is unresolved; failovers are refused until its state is known (see the cluster issues)`;
      return this.count(run.finish('FAIL', details, null));
    }
    if (oldMaster?.name !== masterBefore?.name) {
      return this.count(run.finish('FAIL', `an interrupted failover was completed first: ${oldMaster?.name ?? 'nobody'} is the master now; check again before failing over`, null));
    }
    if (!oldMaster) return this.count(run.finish('FAIL', 'no enabled master to fail over from', null));
    // Sent alongside, never awaited: a slow alert channel must not delay fencing and promotion, nor hold the action lock.
    this.alerts.sendAlongside('failover_started', 'critical', `failover from ${oldMaster.name} started (${request.trigger}): ${request.reason}`, oldMaster.name);
    const journal: FailoverJournal = { id: randomUUID(), trigger: request.trigger, old_master: oldMaster.name, candidate: null, stage: 'started', started_at: run.started };
    const written = await run.step('write_journal', () => this.writeJournal(journal, 'nothing was done'));
    const result = written.result === 'FAIL' ? await this.failed(run, oldMaster, written.details, 'clear') : await this.selectAndPromote(run, oldMaster, request, journal);
    return this.count(result);
  }

  /**
   * The candidates a planned switchover from the running master would have
   * now, by the same rules failover() applies (a named replica's checks, or
   * the selection's eligible replicas); FAIL says why there is none. Changes nothing.
   */
  async switchoverCandidates(newmaster: string | null, ignoreLagLimit: boolean): Promise<StepOutcome<string[]>> {
    const master = this.registry.master();
    if (!master) return { result: 'FAIL', details: 'no enabled master to switch over from' };
    const request: FailoverRequest = { trigger: 'manual', reason: 'checking a switchover', remaster: false, ignoreLagLimit, planned: true, ...(newmaster === null ? {} : { newmaster }) };
    return this.selectCandidates(master, request);
  }

  /** Failovers run by this instance, by outcome. */
  outcomeCounts(): { SUCCESS: number; FAIL: number } {
    return { ...this.outcomes };
  }

  private count(result: FailoverResult): FailoverResult {
    this.outcomes[result.result] += 1;
    return result;
  }


  private async writeJournal(journal: FailoverJournal, ifNot: string): Promise<StepOutcome> {
    try {
      await this.journal.write(journal);
      return { result: 'SUCCESS', details: `journal saved at stage ${journal.stage}${journal.candidate ? ` (${journal.candidate})` : ''}` };
    } catch (err) {
      return { result: 'FAIL', details: `the failover journal cannot be written (${errorMessage(err)}); ${ifNot}` };
    }
  }

  /**
   * Ends a failover that did not promote. `journal`: `clear` when nothing is
   * left unresolved (also when the journal could not be written: nothing
   * was promoted), `keep` when a candidate's state is unknown (failovers
   * stay refused until it is known).
   */
  private async failed(run: FailoverRun, oldMaster: ServerDefinition, details: string, journal: 'clear' | 'keep'): Promise<FailoverResult> {
    if (journal === 'clear') {
      await this.journal.clear().catch((err: unknown) => this.logger.error(`could not clear the failover journal: ${errorMessage(err)}`, { component: 'failover' }));
    }
    this.issues.set('failover', `failover failed: ${details}`);
    this.availability.refreshCluster();
    this.alerts.sendAlongside('failover_failed', 'critical', `failover from ${oldMaster.name} failed: ${details}`, oldMaster.name);
    return run.finish('FAIL', details, null);
  }

  private async deposed(what: string): Promise<string | undefined> {
    try {
      await this.guard.require(what);
      return undefined;
    } catch (err) {
      return errorMessage(err);
    }
  }

  private async selectAndPromote(run: FailoverRun, oldMaster: ServerDefinition, request: FailoverRequest, journal: FailoverJournal): Promise<FailoverResult> {
    const chosen = await run.step('select_candidates', () => this.selectCandidates(oldMaster, request));
    const candidates = chosen.value ?? [];
    if (chosen.result === 'FAIL' || candidates.length === 0) return this.failed(run, oldMaster, chosen.details, 'clear');

    const proxies = this.plugins.cluster('connection_failover');
    // A planned switchover holds client queries on the proxies so nothing is written to the old master after its last WAL left.
    const paused = request.planned && proxies ? await run.step('pause_proxies', () => proxies.pause()) : undefined;
    const phase = await this.fenceAndPromote(run, oldMaster, request, journal, candidates);
    if (phase.newMaster === null) {
      // A switchover that promoted nobody stopped the old master for nothing: it runs again before clients resume. Not
      // while a promotion may still have reached a candidate (unresolved): starting it then could make two masters.
      if (request.planned && !phase.unresolved) await run.step('restart_old_master', () => this.restartOldMaster(oldMaster.name));
      // Resume even after a partial pause: some proxies may be holding clients.
      if (paused && proxies) await run.step('resume_proxies', () => proxies.resume());
      return this.failed(run, oldMaster, phase.details, phase.unresolved ? 'keep' : 'clear');
    }
    return this.complete(run, oldMaster, phase.newMaster, request, journal);
  }

  /** Starts the old master a switchover stopped, unless it still runs, and confirms it answers. */
  private async restartOldMaster(name: string): Promise<ReturnDictionary> {
    const server = this.registry.get(name);
    if ((await this.availability.pollServer(server)).outcome === 'ok') return success(`${name} still runs: nothing to start`);
    const started = await this.plugins.forServer('control', name).start(name);
    if (started.result !== 'SUCCESS') return fail(`${name} was stopped for the switchover and did not start again: ${started.details}`);
    const { outcome } = await this.availability.pollServer(server);
    return outcome === 'ok' ? success(`${name} started again: it stays the master`) : fail(`${name} was started again but does not answer its poll (${outcome})`);
  }

  private async fenceAndPromote(
    run: FailoverRun,
    oldMaster: ServerDefinition,
    request: FailoverRequest,
    journal: FailoverJournal,
    candidates: string[],
  ): Promise<PromotionPhase> {
    const deposed = await this.deposed('fencing the old master');
    if (deposed) return { newMaster: null, details: deposed, unresolved: false };
    const fenced = await run.step('fence_old_master', () => this.fence(oldMaster, request));
    if (fenced.result === 'FAIL' || !fenced.value) return { newMaster: null, details: fenced.details, unresolved: false };
    run.fenced(fenced.value.fencedBy);
    const detached = fenced.value.only;
    // A process that dies from here on leaves these replicas detached: the journal says so, for the next start.
    const noted = detached ? await run.step('write_journal', () => this.writeJournal(Object.assign(journal, { detached }), 'nothing was promoted')) : undefined;
    const phase: PromotionPhase =
      noted?.result === 'FAIL'
        ? { newMaster: null, details: noted.details, unresolved: false }
        : await this.promoteFirst(run, oldMaster, request, journal, candidates, detached);
    const undo = fenced.value.undo;
    if (phase.newMaster === null && !phase.unresolved && undo) {
      // Nothing was promoted: the members go back to the old master, so it can commit again should it come back.
      await run.step('undo_quorum_fence', async () => {
        await undo();
        return { result: 'SUCCESS', details: 'the detached members of the synchronous set point at the old master again' };
      });
    }
    return phase;
  }

  private async promoteFirst(
    run: FailoverRun,
    oldMaster: ServerDefinition,
    request: FailoverRequest,
    journal: FailoverJournal,
    firstChoice: string[],
    only: string[] | undefined,
  ): Promise<PromotionPhase> {
    let candidates = firstChoice;
    if (!request.planned) {
      // The old master is fenced now: rank again on positions that no longer move (WAL in flight has landed). Fenced by
      // quorum, only a detached member of the synchronous set is sure to hold every acknowledged commit.
      const chosen = await run.step('rank_candidates', () => this.selectCandidates(oldMaster, request, only ?? firstChoice, true));
      if (chosen.result === 'FAIL' || !chosen.value?.length) return { newMaster: null, details: chosen.details, unresolved: false };
      candidates = chosen.value;
    }
    for (const candidate of candidates) {
      const outcome = await this.promoteCandidate(run, journal, candidate);
      if (outcome !== 'next_candidate') return outcome;
    }
    return { newMaster: null, details: `no candidate could be promoted (tried ${candidates.join(', ')})`, unresolved: false };
  }

  /** Journals, promotes and confirms one candidate; on failure applies the failed-promotion rule. */
  private async promoteCandidate(run: FailoverRun, journal: FailoverJournal, candidate: string): Promise<PromotionPhase | 'next_candidate'> {
    const deposed = await this.deposed(`promoting ${candidate}`);
    if (deposed) return { newMaster: null, details: deposed, unresolved: false };
    Object.assign(journal, { candidate, stage: 'promoting', promoting_at: this.clock.now() });
    const written = await run.step('write_journal', () => this.writeJournal(journal, `${candidate} was not promoted`));
    if (written.result === 'FAIL') return { newMaster: null, details: written.details, unresolved: false };
    if (this.sync.mode() !== 'off') {
      // Its own synchronous_standby_names (copied from the master by the clone) would make its first commits as master wait.
      await run.step(`prepare ${candidate}`, async () => {
        await this.sync.prepareCandidate(candidate);
        return { result: 'SUCCESS', details: `${candidate}'s synchronous_standby_names cleared` };
      });
    }
    const attempt = await run.step(`promote ${candidate}`, () => this.promoteAndConfirm(candidate));
    if (attempt.result === 'SUCCESS') {
      run.markWritable();
      return { newMaster: candidate };
    }
    const decision = await this.afterFailedPromotion(run, candidate, attempt);
    if (decision.step === 'adopt') {
      run.markWritable();
      return { newMaster: candidate };
    }
    if (decision.step === 'stop') return { newMaster: null, details: `promotion of ${candidate} failed and ${decision.reason}`, unresolved: true };
    Object.assign(journal, { candidate: null, stage: 'started' });
    delete journal.promoting_at;
    const cleared = await run.step('write_journal', () => this.writeJournal(journal, 'not trying another candidate'));
    if (cleared.result === 'FAIL') return { newMaster: null, details: cleared.details, unresolved: true };
    return 'next_candidate';
  }

  /**
   * A candidate whose promotion failed or is unknown: adopted when it left
   * recovery and takes writes after all; otherwise fenced and proven down
   * (or, if the request never reached it, in recovery) before any other
   * candidate is tried (decideFailedPromotion).
   */
  private async afterFailedPromotion(run: FailoverRun, candidate: string, attempt: PromotionAttempt): Promise<FailedPromotionStep> {
    const promoteSent = attempt.value?.promoteSent ?? null;
    const stateBefore = await this.observer.candidateState(candidate);
    let decision = decideFailedPromotion({ promoteSent, stateBefore });
    const fencedPath = decision.step === 'fence';
    if (fencedPath) {
      run.note(`decide ${candidate}`, 'SUCCESS', decision.reason);
      const fenced = await run.step(`fence_candidate ${candidate}`, () => this.stopImmediately(candidate));
      const stateAfter = await this.observer.candidateState(candidate);
      decision = decideFailedPromotion({ promoteSent, stateBefore, fenced: fenced.result === 'SUCCESS', stateAfter });
    }
    run.note(`decide ${candidate}`, decision.step === 'stop' ? 'FAIL' : 'SUCCESS', `${decision.step}: ${decision.reason}`);
    const now = this.clock.now();
    if (decision.step === 'next_candidate' && fencedPath) {
      // It may have left recovery before it was stopped: on a timeline of its own, so it must not simply start again.
      this.registry.alter(candidate, { enabled: false });
      this.registry.setStatus(candidate, serverStatus('down', `stopped by HandyRep after a failed promotion (${attempt.details}); rejoin or clone it before enabling it`, now));
    } else if (decision.step !== 'adopt') {
      this.registry.setStatus(candidate, serverStatus('warning', `promotion failed during failover: ${attempt.details}`, now));
    }
    return decision;
  }

  /** Immediate stop of a failed candidate through its control plugin, confirmed by its status. */
  private async stopImmediately(name: string): Promise<StepOutcome> {
    const control = this.plugins.forServer('control', name);
    const stopped = await control.faststop(name);
    if (stopped.result !== 'SUCCESS') return { result: 'FAIL', details: `immediate stop failed: ${stopped.details}` };
    const status = await control.status(name);
    return status.result === 'SUCCESS' && !status.running
      ? { result: 'SUCCESS', details: `${name} stopped (immediate)` }
      : { result: 'FAIL', details: `${name} was asked to stop, but its status says: ${status.details}` };
  }

  /** Positions of the replicas, the selection plugin's order, and the core's check of it (candidates.ts). */
  private async selectCandidates(oldMaster: ServerDefinition, request: FailoverRequest, only?: readonly string[], settle = false): Promise<StepOutcome<string[]>> {
    if (this.registry.byRole('replica').length === 0) return { result: 'FAIL', details: 'no enabled replica to fail over to' };
    const all = await this.observer.replicaFacts(settle);
    if (!all) return { result: 'FAIL', details: 'no [failover] replication_status_method is configured: replicas cannot be ranked' };
    const facts = only ? all.filter((fact) => only.includes(fact.server.name)) : all;
    const masterLsn = request.planned ? await this.observer.masterLsn(oldMaster.name) : null;
    const reference = masterLsn === null ? null : parseLsn(masterLsn);
    const candidates = buildCandidates(facts, reference, request.planned ? new Map() : this.availability.recentLag());
    if (request.newmaster !== undefined) {
      const refusal = checkNamedCandidate(request.newmaster, candidates, request, streamingNow(facts));
      if (refusal) return { result: 'FAIL', details: refusal };
      return { result: 'SUCCESS', details: `${request.newmaster} chosen by the operator`, value: [request.newmaster] };
    }
    const plugin = this.plugins.cluster('replica_selection');
    if (!plugin) return { result: 'FAIL', details: 'no [failover] selection_method is configured' };
    const selection = checkSelection(plugin.select(candidates, { ignoreLagLimit: request.ignoreLagLimit }), candidates, request);
    const excluded = selection.excluded.map((entry) => `${entry.name}: ${entry.reason}`).join('; ');
    if (selection.ordered.length === 0) return { result: 'FAIL', details: `no eligible replica${excluded ? ` (${excluded})` : ''}` };
    return { result: 'SUCCESS', details: `candidates in order: ${selection.ordered.join(', ')}${excluded ? `; excluded: ${excluded}` : ''}`, value: selection.ordered };
  }

  /**
   * Makes sure the old master cannot accept writes: a clean stop for a
   * planned switchover (its WAL reaches the replicas first), otherwise the
   * fencing plugin or an immediate stop; decideFence judges the outcome.
   */
  private async fence(oldMaster: ServerDefinition, request: FailoverRequest): Promise<StepOutcome<FenceOutcome>> {
    const name = oldMaster.name;
    const evidence = request.masterEvidence;
    // A host silent on PostgreSQL and SSH is not fenced over the network again: that would only run into time-outs.
    const skip = !request.planned && hostSilent(evidence);
    const attempt = skip
      ? { confirmed: false, details: `not fenced over the network: the host answered neither PostgreSQL (${evidence?.poll ?? ''}) nor SSH (${evidence?.ssh ?? ''})` }
      : await this.fenceAttempt(name, request.planned);
    const poll = attempt.confirmed ? 'not_checked' : skip ? (evidence as MasterEvidence).poll : (await this.availability.pollServer(this.registry.get(name))).outcome;
    const quorum = !attempt.confirmed && !request.planned && silentPoll(poll) ? await this.quorumFence.fence(evidence) : undefined;
    const decision = decideFence({ planned: request.planned, confirmed: attempt.confirmed, attempt: attempt.details, poll, ...(quorum ? { quorum } : {}) }, { unreachableMasterPolicy: this.settings.unreachable_master_policy });
    if (!decision.proceed) return { result: 'FAIL', details: decision.reason };
    const byQuorum = decision.fencedBy === 'quorum' && quorum?.fenced ? quorum : undefined;
    return { result: 'SUCCESS', details: decision.reason, value: { fencedBy: decision.fencedBy, ...(byQuorum ? { only: byQuorum.members, undo: byQuorum.undo } : {}) } };
  }

  private async fenceAttempt(name: string, planned: boolean): Promise<{ confirmed: boolean; details: string }> {
    try {
      if (planned) {
        const stopped = await this.plugins.forServer('control', name).stop(name);
        return stopped.result === 'SUCCESS' ? { confirmed: true, details: `${name} stopped cleanly` } : { confirmed: false, details: `clean stop failed: ${stopped.details}` };
      }
      const fencing = this.plugins.cluster('fencing');
      if (fencing) {
        const fenced = await fencing.fence(name);
        return fenced.fenced ? { confirmed: true, details: `${name} fenced: ${fenced.details}` } : { confirmed: false, details: `fencing failed: ${fenced.details}` };
      }
      const stopped = await this.plugins.forServer('control', name).faststop(name);
      return stopped.result === 'SUCCESS' ? { confirmed: true, details: `${name} stopped (immediate)` } : { confirmed: false, details: `immediate stop failed: ${stopped.details}` };
    } catch (err) {
      return { confirmed: false, details: `fencing failed: ${errorMessage(err)}` };
    }
  }

  /**
   * Promotes within promotion_timeout, then confirms: out of recovery and a
   * test write succeeds. A FAIL carries whether the request may have reached
   * the server (`promote_sent` from the plugin; unknown after a time-out).
   */
  async promoteAndConfirm(candidate: string): Promise<PromotionAttempt> {
    const limitMs = this.settings.promotion_timeout * 1000;
    let promoted;
    try {
      promoted = await withTimeout(this.plugins.forServer('promotion', candidate).promote(candidate), limitMs, `promotion of ${candidate} did not finish within promotion_timeout (${this.settings.promotion_timeout} s)`);
    } catch (err) {
      return { result: 'FAIL', details: `promotion failed: ${errorMessage(err)}`, value: { promoteSent: null } };
    }
    if (promoted.result !== 'SUCCESS') {
      const sent = (promoted as { promote_sent?: unknown }).promote_sent;
      return { result: 'FAIL', details: `promotion failed: ${promoted.details}`, value: { promoteSent: typeof sent === 'boolean' ? sent : null } };
    }
    try {
      await this.sql.withSession({ server: candidate, connectTimeoutMs: QUICK_SQL_MS, statementTimeoutMs: QUICK_SQL_MS }, async (session) => {
        const rows = await session.query<{ in_recovery: boolean }>('SELECT pg_is_in_recovery() AS in_recovery');
        if (rows[0]?.in_recovery !== false) throw new Error('still in recovery after promotion');
        await session.query('CREATE TEMP TABLE handyrep_promotion_check (checked_at timestamptz)');
        await session.query('INSERT INTO handyrep_promotion_check VALUES (now())');
      });
    } catch (err) {
      return { result: 'FAIL', details: `promoted, but the test write failed: ${errorMessage(err)}`, value: { promoteSent: true } };
    }
    return { result: 'SUCCESS', details: `${candidate} promoted and accepts writes` };
  }

  /** After the promotion: journal, registry, proxies, remaster, extra commands, alerts. */
  private async complete(run: FailoverRun, oldMaster: ServerDefinition, newMaster: string, request: FailoverRequest, journal: FailoverJournal): Promise<FailoverResult> {
    const problems: string[] = [];
    journal.stage = 'promoted';
    const written = await run.step('write_journal', () => this.writeJournal(journal, 'continuing: the promotion has happened'));
    if (written.result === 'FAIL') problems.push(written.details);
    const registered = await run.step('update_registry', async () => {
      swapMaster(this.registry, this.clock, oldMaster.name, newMaster, `failed over to ${newMaster} at ${formatStatusTimestamp(this.clock.now())} UTC (${request.trigger}): ${request.reason}`);
      await this.stateStore.saveOrThrow();
      return { result: 'SUCCESS', details: `${newMaster} is the master; ${oldMaster.name} is disabled` };
    });
    if (registered.result === 'FAIL') problems.push(`registry: ${registered.details}`);
    if (this.sync.mode() !== 'off') {
      const synced = await run.step('synchronous_standbys', async () => ({ result: 'SUCCESS', details: await this.sync.afterFailover(newMaster) }));
      if (synced.result === 'FAIL') problems.push(`synchronous standbys: ${synced.details}`);
    }
    const remastered = await this.repointAndRemaster(run, newMaster, request.remaster);
    problems.push(...remastered.problems);
    problems.push(...(await this.extraCommands(run, newMaster, oldMaster.name)));
    // Detached members (of this fence or an earlier one) that now follow the new master, or are it, leave the record;
    // the others (no remaster asked, or it failed) stay for the checks to re-attach.
    const following = new Set([newMaster, ...remastered.following]);
    await this.detachedMembers.keepOnly([...this.detachedMembers.recorded(), ...(journal.detached ?? [])].filter((name) => !following.has(name)));

    await this.journal.clear().catch((err: unknown) => problems.push(`the failover journal could not be cleared: ${errorMessage(err)}`));
    this.issues.clear('failover');
    this.issues.clear('master_unreachable');
    if (problems.length > 0) this.issues.set('post_failover', `failover to ${newMaster} done, but: ${problems.join('; ')}`);
    else this.issues.clear('post_failover');
    this.availability.refreshCluster();
    const details = `failed over from ${oldMaster.name} to ${newMaster}${problems.length > 0 ? `; post-failover problems: ${problems.join('; ')}` : ''}`;
    this.alerts.sendAlongside('failover_finished', problems.length > 0 ? 'warning' : 'info', details, newMaster);
    return run.finish('SUCCESS', details, newMaster);
  }

  /** Proxies, then (when asked) the replicas; returns the problems and the replicas that stream from the new master. */
  private async repointAndRemaster(run: FailoverRun, newMaster: string, remaster: boolean): Promise<{ problems: string[]; following: string[] }> {
    const problems: string[] = [];
    const proxies = this.plugins.cluster('connection_failover');
    if (proxies) {
      const repointed = await run.step('repoint_proxies', () => proxies.failover(newMaster));
      if (repointed.result === 'FAIL') problems.push(`proxies: ${repointed.details}`);
    }
    if (!remaster) return { problems, following: [] };
    const others = this.registry.byRole('replica').filter((replica) => replica.name !== newMaster);
    if (this.slots.inUse() && others.length > 0) {
      // Before any replica points at the new master, so none streams from it without its slot.
      const created = await run.step('create_slots', async () => {
        const made = await this.slots.ensure(newMaster, others.map((replica) => replica.name));
        return { result: 'SUCCESS', details: `slots on ${newMaster}: ${others.map((replica) => this.slots.slotName(replica.name)).join(', ')} (created: ${made.join(', ') || 'none'})` };
      });
      if (created.result === 'FAIL') problems.push(`replication slots: ${created.details}`);
    }
    const results = await Promise.all(others.map((replica) => run.step(`remaster ${replica.name}`, () => this.remasterService.remaster(replica.name, newMaster))));
    const following: string[] = [];
    results.forEach((result, index) => {
      const name = others[index]?.name ?? '';
      if (result.result === 'FAIL') problems.push(`remaster ${name}: ${result.details}`);
      else following.push(name);
    });
    // The proxies were repointed first (writes matter most); now that the replicas follow the new
    // master, a second pass lets read-only aliases pick a replica that is in the new timeline.
    if (proxies && others.length > 0) {
      const refreshed = await run.step('refresh_proxies', () => proxies.failover(newMaster));
      if (refreshed.result === 'FAIL') problems.push(`proxies (after remaster): ${refreshed.details}`);
    }
    return { problems, following };
  }

  private async extraCommands(run: FailoverRun, newMaster: string, oldMaster: string): Promise<string[]> {
    const problems: string[] = [];
    for (const [name, command] of Object.entries(this.loaded.config.extra_failover_commands)) {
      const ran = await run.step(`extra_command ${name}`, async () => {
        const host = this.registry.get(newMaster).hostname;
        const result = await this.shell.runLocal([command.command, newMaster, host, oldMaster], { timeoutMs: command.timeout * 1000 });
        return result.exitCode === 0 ? { result: 'SUCCESS', details: 'exit 0' } : { result: 'FAIL', details: `exit ${String(result.exitCode)}: ${result.stderr.trim().slice(0, 500)}` };
      });
      if (ran.result === 'FAIL') problems.push(`extra command ${name}: ${ran.details}`);
    }
    return problems;
  }

}
