import 'reflect-metadata';
import { errorMessage } from '@handyrep/plugin-sdk';
import type { Clock, Logger } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import type { DependencyContainer } from 'tsyringe';
import { AvailabilityService } from '../availability/availability-service.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import type { StateStore } from '../state/state-store.js';
import { serverStatus } from '../status/server-status.js';
import { ClusterObserver } from './cluster-observer.js';
import { DetachedMembers } from './detached-members.js';
import type { CandidateState } from './decide.js';
import { JournalStore } from './failover-journal.js';
import type { FailoverJournal } from './failover-journal.js';
import { swapMaster } from './swap-master.js';

/** What became of an interrupted failover. */
export type JournalResolution = 'none' | 'resolved' | 'pending';

/**
 * A failover left unresolved in the saved state (a process that died
 * mid-failover, or a candidate whose promotion could not be proven undone)
 * is resolved from the candidate's real state, never by promoting again:
 * out of recovery → the failover is completed in the registry; in recovery
 * once promotion_timeout has passed since the promotion was requested → it
 * was not promoted; down → it cannot take writes, it is disabled for a
 * rejoin. Until then (in recovery within the time-out, or no answer) the
 * journal stays and failovers are refused. Asked at start, before every
 * failover and by every check, so it resolves as soon as the facts are in.
 */
@injectable()
export class JournalRecovery {
  private readonly journal: JournalStore;

  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.stateStore) stateStore: StateStore,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(ClusterIssues) private readonly issues: ClusterIssues,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
    @inject(ClusterObserver) private readonly observer: ClusterObserver,
    @inject(DetachedMembers) private readonly detachedMembers: DetachedMembers,
  ) {
    this.journal = new JournalStore(registry, stateStore);
  }

  /** Looks once at an unresolved failover, if there is one, and resolves it when the facts allow. */
  async resolve(): Promise<JournalResolution> {
    const journal = this.journal.current();
    if (!journal) return 'none';
    const candidate = journal.candidate;
    if (journal.stage === 'started' || candidate === null || !this.registry.has(candidate)) {
      const detached = journal.detached?.length ? `; ${journal.detached.join(', ')} had been detached from it by a quorum fence: the next failover uses them, or HandyRep re-attaches them while ${journal.old_master} stays the healthy master` : '';
      return this.close(journal, `a failover from ${journal.old_master} was interrupted before any promotion; nothing was promoted${detached}`);
    }
    const state = await this.observer.candidateState(candidate);
    return this.resolveWith(journal, candidate, state);
  }

  private async resolveWith(journal: FailoverJournal, candidate: string, state: CandidateState): Promise<JournalResolution> {
    if (state === 'writable' || state === 'out_of_recovery') {
      if (this.registry.master()?.name !== candidate && this.registry.has(journal.old_master)) {
        swapMaster(this.registry, this.clock, journal.old_master, candidate, `failover completed after it was interrupted at stage ${journal.stage}`);
      }
      return this.close(journal, `a failover from ${journal.old_master} to ${candidate} was interrupted after the promotion; the registry was completed, check proxies (connection_proxy_init) and replicas (remaster)`);
    }
    if (state === 'down') {
      this.registry.alter(candidate, { enabled: false });
      this.registry.setStatus(candidate, serverStatus('down', 'its promotion was interrupted and it is down; it may have left recovery: rejoin or clone it before enabling it', this.clock.now()));
      return this.close(journal, `a failover from ${journal.old_master} was interrupted while promoting ${candidate}, which is down (disabled, to rejoin); nothing else was promoted`);
    }
    const requested = journal.promoting_at ?? journal.started_at;
    const settled = this.clock.now() - requested >= this.loaded.config.failover.promotion_timeout * 1000;
    if (state === 'in_recovery' && settled) {
      return this.close(journal, `a failover from ${journal.old_master} was interrupted; ${candidate} was not promoted`);
    }
    const why = state === 'in_recovery' ? 'is still in recovery and its promotion may still complete (within promotion_timeout)' : 'does not answer';
    this.issues.set('interrupted_failover', `a failover from ${journal.old_master} was interrupted while promoting ${candidate}, which ${why}; failovers are refused until its state is known`);
    this.availability.refreshCluster();
    return 'pending';
  }

  private async close(journal: FailoverJournal, message: string): Promise<JournalResolution> {
    this.logger.warn(message, { component: 'failover', journal: journal.id });
    this.issues.set('interrupted_failover', message);
    // Members the fence detached follow nothing; the record outlives the journal (saved with its removal) until they are re-attached.
    this.detachedMembers.note(journal.detached ?? []);
    this.availability.refreshCluster();
    try {
      await this.journal.clear();
    } catch (err) {
      this.logger.error(`could not clear the failover journal: ${errorMessage(err)}`, { component: 'failover' });
    }
    return 'resolved';
  }
}

/** At start: resolves a failover the previous process left unresolved, when the facts allow (see JournalRecovery). */
export async function recoverInterruptedFailover(runtime: { container: DependencyContainer }): Promise<JournalResolution> {
  return runtime.container.resolve(JournalRecovery).resolve();
}
