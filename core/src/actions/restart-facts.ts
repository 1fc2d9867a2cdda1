import 'reflect-metadata';
import { parseLsn } from '@handyrep/plugin-sdk';
import type { ServerDefinition, SqlClient, SqlTarget } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { AvailabilityService } from '../availability/availability-service.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { SyncStandbys } from '../replication/sync-standbys.js';
import type { RestartFacts, RestartObservation } from './rolling-restart-plan.js';
import { boundedSqlTarget } from '../config/sql-target.js';

/** One standby as the master's pg_stat_replication shows it. */
export interface StandbyRow {
  /** Its application_name. */
  name: string;
  state: string;
  /** Replayed position, null until the standby has reported one. */
  replay: bigint | null;
}

/**
 * Reads what a rolling restart decides on, over SQL only: settings pending a
 * restart (`pg_settings.pending_restart`), the running executable's directory
 * (the `pg_config` view's BINDIR, which PostgreSQL derives from the path of
 * the postgres binary it runs), and the standbys streaming from the master.
 */
@injectable()
export class RestartFactsReader {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
    @inject(SyncStandbys) private readonly sync: SyncStandbys,
  ) {}

  /** A quick SQL target: connect_timeout and statement_timeout of `[handyrep]`. */
  target(server: string): SqlTarget {
    return boundedSqlTarget(server, this.loaded.config.handyrep);
  }

  /** The application_name a replica streams under. */
  applicationName(server: string): string {
    return this.sync.applicationName(this.registry.get(server));
  }

  /** Polls the master and reads every enabled database server; throws when a server cannot be read. */
  async observe(master: ServerDefinition): Promise<RestartObservation> {
    const { outcome } = await this.availability.pollServer(master);
    const replicas = this.registry.byRole('replica');
    if (outcome !== 'ok') {
      return { master: this.unread(master), masterUp: false, replicas: replicas.map((r) => this.unread(r)), streaming: new Set(), masterCanRejoin: false };
    }
    const standbys = await this.standbys(master.name);
    const streamingNames = new Set(standbys.filter((row) => row.state === 'streaming').map((row) => row.name));
    const streaming = new Set(replicas.filter((replica) => streamingNames.has(this.sync.applicationName(replica))).map((replica) => replica.name));
    // A replica that does not stream makes the plan refuse: it is not asked anything it might not answer.
    const [masterFacts, ...replicaFacts] = await Promise.all(
      [master, ...replicas].map((server) => (server === master || streaming.has(server.name) ? this.read(server) : Promise.resolve(this.unread(server)))),
    );
    const clone = master['clone_method'];
    return {
      master: masterFacts as RestartFacts,
      masterUp: true,
      replicas: replicaFacts,
      streaming,
      masterCanRejoin: typeof clone === 'string' && clone !== '',
    };
  }

  /** The standbys in the master's pg_stat_replication. */
  async standbys(master: string): Promise<StandbyRow[]> {
    const rows = await this.sql.query<{ name: string; state: string; replay: string | null }>(
      this.target(master),
      'SELECT application_name AS name, state, replay_lsn::text AS replay FROM pg_stat_replication',
    );
    return rows.map((row) => ({ name: row.name, state: row.state, replay: parseLsn(row.replay) }));
  }

  /** The master's current WAL position. */
  async masterPosition(master: string): Promise<bigint> {
    const rows = await this.sql.query<{ lsn: string }>(this.target(master), 'SELECT pg_current_wal_lsn()::text AS lsn');
    const lsn = parseLsn(rows[0]?.lsn);
    if (lsn === null) throw new Error(`${master} reported no WAL position`);
    return lsn;
  }

  /** Runs a checkpoint on `server` and waits for it, within `[handyrep] statement_timeout`. */
  async checkpoint(server: string): Promise<void> {
    await this.sql.query(this.target(server), 'CHECKPOINT');
  }

  /** Settings of `server` that wait for a restart. */
  async pendingSettings(server: string): Promise<string[]> {
    const rows = await this.sql.query<{ name: string }>(this.target(server), 'SELECT name FROM pg_settings WHERE pending_restart ORDER BY name');
    return rows.map((row) => row.name);
  }

  private async read(server: ServerDefinition): Promise<RestartFacts> {
    return this.sql.withSession(this.target(server.name), async (session) => {
      const pending = await session.query<{ name: string }>('SELECT name FROM pg_settings WHERE pending_restart ORDER BY name');
      const bin = await session.query<{ dir: string }>("SELECT setting AS dir FROM pg_config WHERE name = 'BINDIR'");
      return { ...this.unread(server), pendingSettings: pending.map((row) => row.name), runningBinDir: bin[0]?.dir };
    });
  }

  /** A server's definition-side facts, before anything is read from it. */
  private unread(server: ServerDefinition): RestartFacts {
    const pgBin = server['pg_bin'];
    const priority = server['failover_priority'];
    return {
      name: server.name,
      pendingSettings: [],
      runningBinDir: undefined,
      configuredBinDir: typeof pgBin === 'string' && pgBin !== '' ? pgBin : undefined,
      nofailover: server['nofailover'] === true,
      failoverPriority: typeof priority === 'number' ? priority : Number.MAX_SAFE_INTEGER,
    };
  }
}
