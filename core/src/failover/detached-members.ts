import 'reflect-metadata';
import { errorMessage } from '@handyrep/plugin-sdk';
import type { Logger } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { AlertService } from '../alerts/alert-service.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import { Tokens } from '../di/tokens.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { RemasterService } from '../replication/remaster-service.js';
import type { StateStore } from '../state/state-store.js';

/** Where the standbys a quorum fence left detached live in the saved state's `extra`. */
export const DETACHED_KEY = 'detached_members';

/** The cluster issue naming them. */
const ISSUE = 'detached_members';

/**
 * Standbys a quorum fence detached (primary_conninfo emptied) that no
 * promotion re-pointed: a process that died before promoting, a fence undo
 * that failed, a failover that did not remaster them. They follow nothing,
 * and the master's synchronous commits may wait for them, so they are
 * remembered in the saved state and re-attached to the registered master
 * (the remaster path: primary_conninfo and, with use_slots, the slot) on
 * each check that finds it healthy while no failover runs. A member that
 * cannot be re-attached stays recorded, is alerted once, and is retried.
 */
@injectable()
export class DetachedMembers {
  /** Members already alerted about: one alert each until they are re-attached, not one per check. */
  private readonly alerted = new Set<string>();

  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.stateStore) private readonly stateStore: StateStore,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(ClusterIssues) private readonly issues: ClusterIssues,
    @inject(AlertService) private readonly alerts: AlertService,
    @inject(RemasterService) private readonly remasterService: RemasterService,
  ) {}

  /** The recorded members (server names). */
  recorded(): string[] {
    const value = this.registry.getExtra(DETACHED_KEY);
    return Array.isArray(value) ? value.filter((name): name is string => typeof name === 'string') : [];
  }

  /**
   * Adds members to the record in memory (the caller's next save writes it,
   * e.g. with the journal it replaces).
   */
  note(servers: readonly string[]): void {
    if (servers.length === 0) return;
    this.replace([...new Set([...this.recorded(), ...servers])]);
  }

  /** Adds members to the record and saves it. Never throws: a failed save is logged, and the next save writes it. */
  async remember(servers: readonly string[]): Promise<void> {
    if (servers.length === 0) return;
    this.note(servers);
    await this.save();
  }

  /** Sets the record to exactly `servers` (after a failover: the members it did not re-point) and saves it. Never throws. */
  async keepOnly(servers: readonly string[]): Promise<void> {
    if (servers.length === 0 && this.recorded().length === 0) return;
    this.replace([...new Set(servers)]);
    await this.save();
  }

  /**
   * Re-attaches every recorded member to `master` and confirms it streams.
   * A member no longer an enabled replica (promoted, removed, disabled for a
   * rejoin or a clone, which set its upstream themselves) leaves the record.
   * Never throws.
   */
  async reattach(master: string): Promise<void> {
    const recorded = this.recorded();
    if (recorded.length === 0) return;
    const outcomes = await Promise.all(
      recorded.map(async (name) => {
        if (!this.registry.has(name)) return { name, kept: false, why: 'no longer registered' };
        const server = this.registry.get(name);
        if (!server.enabled || server.role !== 'replica') return { name, kept: false, why: `no longer an enabled replica (${server.enabled ? server.role : 'disabled'})` };
        try {
          const result = await this.remasterService.remaster(name, master);
          return result.result === 'SUCCESS' ? { name, kept: false, why: `re-attached: ${result.details}` } : { name, kept: true, why: result.details };
        } catch (err) {
          return { name, kept: true, why: errorMessage(err) };
        }
      }),
    );
    const failed = outcomes.filter((outcome) => outcome.kept);
    for (const outcome of outcomes.filter((o) => !o.kept)) {
      this.alerted.delete(outcome.name);
      this.logger.info(`${outcome.name}, detached by a quorum fence, left the record: ${outcome.why}`, { component: 'failover', server: outcome.name });
    }
    for (const outcome of failed) {
      const message = `${outcome.name}, detached by a quorum fence, could not be re-attached to ${master}: ${outcome.why}; retried on every check`;
      this.logger.warn(message, { component: 'failover', server: outcome.name });
      if (!this.alerted.has(outcome.name)) {
        this.alerted.add(outcome.name);
        this.alerts.sendAlongside('status_warning', 'warning', message, outcome.name);
      }
    }
    this.replace(failed.map((outcome) => outcome.name), failed.map((outcome) => `${outcome.name}: ${outcome.why}`));
    await this.save();
  }

  private replace(servers: string[], problems: string[] = []): void {
    this.registry.setExtra(DETACHED_KEY, servers.length > 0 ? servers : undefined);
    if (servers.length === 0) {
      this.issues.clear(ISSUE);
      return;
    }
    const why = problems.length > 0 ? `; the last re-attachment failed (${problems.join('; ')})` : '';
    this.issues.set(ISSUE, `${servers.join(', ')} detached from their upstream by a quorum fence: HandyRep re-attaches them to the master on each check while it is healthy and no failover runs, or the next failover uses them${why}`);
  }

  private async save(): Promise<void> {
    try {
      await this.stateStore.saveOrThrow();
    } catch (err) {
      this.logger.error(`could not save the detached members (${this.recorded().join(', ') || 'none'}): ${errorMessage(err)}`, { component: 'failover' });
    }
  }
}
