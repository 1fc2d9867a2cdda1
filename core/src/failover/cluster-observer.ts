import 'reflect-metadata';
import { errorMessage } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ReplicaPosition, ServerDefinition, SqlClient } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { AvailabilityService } from '../availability/availability-service.js';
import type { ProbeOutcome } from '../availability/probe-outcome.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import type { ReplicaFacts } from './candidates.js';
import type { CandidateState, MasterObservation } from './decide.js';
import type { ReplicaOpinion } from './master-verdict.js';

/**
 * The side probes (SSH, the replicas' opinions) get at least this long, and
 * otherwise no longer than the master's poll took: a silent host never makes
 * the evidence step wait longer than the poll time-out.
 */
const SIDE_PROBE_FLOOR_MS = 1000;

/** Rounds and spacing of the reads that let in-flight WAL land before candidates are ranked. */
const SETTLE_ROUNDS = 4;
const SETTLE_INTERVAL_MS = 50;

function receivedOf(fact: ReplicaFacts | undefined): string | null {
  const position = fact?.position;
  return position && position.result === 'SUCCESS' ? (position.received_lsn ?? position.replayed_lsn ?? null) : null;
}

/** Resolves to `fallback` when `work` has not settled within `ms` (the work goes on; its result is dropped). */
function settleWithin<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), Math.max(0, ms));
  });
  return Promise.race([work.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}

/**
 * Observe: gathers what the decision needs, every probe bounded. It changes
 * nothing but the statuses polls always update.
 */
@injectable()
export class ClusterObserver {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
  ) {}

  private positionReader(): ((name: string) => Promise<ReplicaPosition>) | undefined {
    const status = this.plugins.cluster('replication_status');
    return status ? (name) => status.position(name) : undefined;
  }

  /**
   * The master's evidence: a new poll, an SSH probe of its host and every
   * replica's WAL receiver, all at once. `verify` adds verify_master.
   */
  async observeMaster(master: ServerDefinition, failingSince: number, verify: boolean): Promise<MasterObservation> {
    const started = this.clock.now();
    // Measured before the replicas are asked: their "last heard" ages are read after this moment.
    const failingForMs = started - failingSince;
    const position = this.positionReader();
    const ssh = this.availability.probeSsh(master.name);
    const opinions = this.registry.byRole('replica').map((replica) => this.opinionOf(replica.name, position));
    const verified = verify ? this.availability.verifyMaster() : undefined;
    const poll = await this.availability.pollServer(this.registry.get(master.name));
    const sideBudget = Math.max(started + SIDE_PROBE_FLOOR_MS, this.clock.now()) - this.clock.now();
    // A verification that has not finished by then has not shown the master alive: it counts as failed.
    const [sshOutcome, replicas, verifiedAlive] = await Promise.all([
      settleWithin<ProbeOutcome>(ssh, sideBudget, 'timeout'),
      Promise.all(opinions.map((opinion) => settleWithin(opinion.work, sideBudget, opinion.silent))),
      verified ? settleWithin(verified.then((v) => v.result === 'SUCCESS'), sideBudget, false) : Promise.resolve(undefined),
    ]);
    return {
      evidence: { masterHost: master.hostname, poll: poll.outcome, ssh: sshOutcome, replicas, failingForMs, verified: verify },
      ...(verifiedAlive === undefined ? {} : { verifiedAlive }),
    };
  }

  private opinionOf(replica: string, position: ((name: string) => Promise<ReplicaPosition>) | undefined): { work: Promise<ReplicaOpinion>; silent: ReplicaOpinion } {
    const silent: ReplicaOpinion = { replica, answered: false, receiverStatus: null, senderHost: null, lastMsgAgeMs: null };
    if (!position) return { work: Promise.resolve(silent), silent };
    const work = position(replica).then(
      (answer): ReplicaOpinion =>
        answer.result === 'SUCCESS'
          ? { replica, answered: true, receiverStatus: answer.receiver_status, senderHost: answer.sender_host, lastMsgAgeMs: answer.last_msg_age_ms }
          : silent,
      () => silent,
    );
    return { work, silent };
  }

  /**
   * Every enabled replica's WAL position, for ranking candidates. With
   * `settle`, read again until no position moves between two reads (at most
   * a few rounds): once the master is fenced, WAL still in flight to a
   * replica lands within milliseconds, and the ranking must see it.
   */
  async replicaFacts(settle = false): Promise<ReplicaFacts[] | undefined> {
    let facts = await this.readReplicaFacts();
    for (let round = 0; settle && facts && round < SETTLE_ROUNDS; round += 1) {
      await this.clock.sleep(SETTLE_INTERVAL_MS);
      const again = await this.readReplicaFacts();
      const moved = again?.some((fact, index) => receivedOf(fact) !== receivedOf(facts?.[index]));
      facts = again;
      if (!moved) break;
    }
    return facts;
  }

  private async readReplicaFacts(): Promise<ReplicaFacts[] | undefined> {
    const position = this.positionReader();
    if (!position) return undefined;
    return Promise.all(
      this.registry.byRole('replica').map(async (server): Promise<ReplicaFacts> => {
        try {
          return { server, position: await position(server.name) };
        } catch (err) {
          this.logger.warn(`cannot read WAL position of ${server.name}: ${errorMessage(err)}`, { server: server.name });
          return { server, position: undefined };
        }
      }),
    );
  }

  private quickTarget(server: string): { server: string; connectTimeoutMs: number; statementTimeoutMs: number } {
    const ms = this.loaded.config.handyrep.connect_timeout * 1000;
    return { server, connectTimeoutMs: ms, statementTimeoutMs: ms };
  }

  /** The master's current WAL position, or null when it does not answer. */
  async masterLsn(master: string): Promise<string | null> {
    try {
      const rows = await this.sql.query<{ lsn: string }>(this.quickTarget(master), 'SELECT pg_current_wal_lsn()::text AS lsn');
      return rows[0]?.lsn ?? null;
    } catch {
      return null;
    }
  }

  /**
   * A candidate's state: `writable` only when it is out of recovery and a
   * test write succeeds; `down` when its port refuses.
   */
  async candidateState(name: string): Promise<CandidateState> {
    try {
      return await this.sql.withSession(this.quickTarget(name), async (session) => {
        const rows = await session.query<{ in_recovery: boolean }>('SELECT pg_is_in_recovery() AS in_recovery');
        if (rows[0]?.in_recovery !== false) return 'in_recovery';
        try {
          await session.query('CREATE TEMP TABLE handyrep_promotion_check (checked_at timestamptz)');
          await session.query('INSERT INTO handyrep_promotion_check VALUES (now())');
          return 'writable';
        } catch {
          return 'out_of_recovery';
        }
      });
    } catch {
      const { outcome } = await this.availability.pollServer(this.registry.get(name));
      return outcome === 'refused' ? 'down' : 'unknown';
    }
  }
}
