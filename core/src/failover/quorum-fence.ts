import 'reflect-metadata';
import { errorMessage } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ServerDefinition, SqlClient, SqlTarget } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { Tokens } from '../di/tokens.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { alterSystemStatement } from '../replication/primary-conninfo.js';
import { quorumOf } from '../replication/sync-rules.js';
import { describe, SyncStandbys } from '../replication/sync-standbys.js';
import { DetachedMembers } from './detached-members.js';
import type { MasterEvidence } from './master-verdict.js';

/** How long a detached standby's WAL receiver may take to stop. */
const DETACH_CONFIRM_MS = 3000;

/** The outcome of a quorum fence: which members were detached (server names), or why there was no quorum. */
export type QuorumFenceResult =
  | { fenced: true; details: string; members: string[]; /** Re-attaches the detached members (a failover that then promoted nobody). */ undo: () => Promise<void> }
  | { fenced: false; details: string };

/**
 * Fences a master that answers nothing without reaching it (issue 13): when
 * at least |S| − k + 1 members of the recorded synchronous set answer, each
 * is detached from the old master (primary_conninfo emptied, its own
 * synchronous_standby_names cleared, reload, WAL receiver confirmed gone).
 * The old master can then collect at most k − 1 acknowledgements, so it
 * commits nothing more, and the most advanced detached member holds every
 * acknowledged commit. Without a quorum nothing is touched; when too few
 * members could be confirmed detached, the ones that were are re-attached;
 * one that cannot be is recorded in DetachedMembers, which retries.
 */
@injectable()
export class QuorumFence {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(SyncStandbys) private readonly sync: SyncStandbys,
    @inject(DetachedMembers) private readonly detachedMembers: DetachedMembers,
  ) {}

  private target(server: string): SqlTarget {
    return this.sync.target(server);
  }

  /** Members of the recorded set by server name (application names mapped back). */
  private memberServers(): Map<string, ServerDefinition> {
    const byApplication = new Map(this.registry.list().filter((s) => s.role === 'replica').map((s) => [this.sync.applicationName(s), s]));
    const members = new Map<string, ServerDefinition>();
    for (const member of this.sync.recorded().members) {
      const server = byApplication.get(member);
      if (server) members.set(member, server);
    }
    return members;
  }

  /** Tries the quorum fence; `evidence` says which replicas answered the latest observation. */
  async fence(evidence: MasterEvidence | undefined): Promise<QuorumFenceResult> {
    if (this.sync.mode() === 'off') return { fenced: false, details: 'no quorum fence: synchronous_mode is off' };
    const recorded = this.sync.recorded();
    const members = this.memberServers();
    const answered = new Set((evidence?.replicas ?? []).filter((opinion) => opinion.answered).map((opinion) => opinion.replica));
    const reachable = [...members].filter(([, server]) => answered.has(server.name)).map(([member]) => member);
    const quorum = quorumOf(recorded, reachable);
    const set = `synchronous set ${describe(recorded)}`;
    if (!quorum.ok) {
      return { fenced: false, details: `no quorum: ${quorum.have.length} member(s) of the ${set} reachable (${quorum.have.join(', ') || 'none'}), ${Number.isFinite(quorum.needed) ? quorum.needed : 'a synchronous set'} needed` };
    }
    const outcomes = await Promise.all(quorum.have.map(async (member) => ({ member, server: members.get(member) as ServerDefinition, ...(await this.detach((members.get(member) as ServerDefinition).name)) })));
    const detached = outcomes.filter((outcome) => outcome.detached);
    const detachedNames = detached.map((outcome) => outcome.member);
    if (!quorumOf(recorded, detachedNames).ok) {
      await Promise.all(detached.map((outcome) => this.reattach(outcome.server.name, outcome.previous)));
      const problems = outcomes.filter((o) => !o.detached).map((o) => `${o.member}: ${o.error}`).join('; ');
      return { fenced: false, details: `no quorum fence: only ${detached.length} of ${quorum.needed} needed members of the ${set} could be detached (${problems}); re-attached the others` };
    }
    return {
      fenced: true,
      undo: async () => {
        await Promise.all(detached.map((outcome) => this.reattach(outcome.server.name, outcome.previous)));
      },
      details: `fenced by quorum: ${detachedNames.join(', ')} (${detached.length} of the ${set}, ${quorum.needed} needed) detached from the old master, which can no longer collect ${recorded.k} acknowledgement(s)`,
      members: detached.map((outcome) => outcome.server.name),
    };
  }

  /** Empties primary_conninfo and the standby's own synchronous_standby_names, reloads, waits for the WAL receiver to stop. */
  private async detach(server: string): Promise<{ detached: boolean; previous: string; error?: string }> {
    let previous = '';
    try {
      const rows = await this.sql.query<{ value: string }>(this.target(server), 'SELECT current_setting($1) AS value', ['primary_conninfo']);
      previous = rows[0]?.value ?? '';
      await this.sql.query(this.target(server), alterSystemStatement('primary_conninfo', ''));
      await this.sql.query(this.target(server), alterSystemStatement('synchronous_standby_names', ''));
      await this.sql.query(this.target(server), 'SELECT pg_reload_conf()');
      const deadline = this.clock.now() + DETACH_CONFIRM_MS;
      for (;;) {
        const receivers = await this.sql.query<{ n: number }>(this.target(server), 'SELECT count(*)::int AS n FROM pg_stat_wal_receiver');
        if (receivers[0]?.n === 0) return { detached: true, previous };
        if (this.clock.now() > deadline) return { detached: false, previous, error: 'its WAL receiver did not stop' };
        await this.clock.sleep(50);
      }
    } catch (err) {
      return { detached: false, previous, error: errorMessage(err) };
    }
  }

  /** Restores the member's primary_conninfo; when that fails it stays recorded as detached, to be re-attached on a later check. */
  private async reattach(server: string, previous: string): Promise<void> {
    try {
      await this.sql.query(this.target(server), alterSystemStatement('primary_conninfo', previous));
      await this.sql.query(this.target(server), 'SELECT pg_reload_conf()');
    } catch (err) {
      this.logger.error(`could not re-attach ${server} to its upstream after a quorum fence that promoted nobody: ${errorMessage(err)}; recorded as detached`, { server });
      await this.detachedMembers.remember([server]);
    }
  }
}
