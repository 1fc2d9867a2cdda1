import 'reflect-metadata';
import { posix } from 'node:path';
import { errorMessage, fail, passfileLine, replicationTlsPairs, success } from '@handyrep/plugin-sdk';
import type { Clock, Logger, RemoteShell, ReturnDictionary, Secrets, SettingsView, SqlClient, SqlTarget } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { alterSystemStatement, conninfoUpstream, formatConninfo, parseConninfo, retargetConninfo } from './primary-conninfo.js';
import { ReplicationSlots } from './replication-slots.js';
import { boundedSqlTarget } from '../config/sql-target.js';

/** How long a remastered replica may take to stream from its new upstream. */
const FOLLOW_TIMEOUT_MS = 15_000;

/** The passfile remastering writes, in the replica's data directory: the clone plugins' default name, so a clone and a remaster share one file. */
export const REMASTER_PASSFILE = 'handyrep-replication.pgpass';

/** What a replica's new primary_conninfo needs besides the text: a passfile to write first, when a password must move out of it. */
interface PlannedConninfo {
  conninfo: string;
  passfile?: { path: string; content: string };
}

/** A remaster's return dictionary. */
export type RemasterResult = ReturnDictionary<{ method?: 'reload' | 'restart'; duration_ms: number }>;

/**
 * Points a replica at a new upstream. PostgreSQL 13+ re-reads
 * primary_conninfo on reload, so no restart (and no lost connections) is
 * needed; 12 needs the replica's control plugin to restart it.
 */
@injectable()
export class RemasterService {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.secrets) private readonly secrets: Secrets,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(Tokens.shell) private readonly shell: RemoteShell,
    @inject(Tokens.settings) private readonly settings: SettingsView,
    @inject(ReplicationSlots) private readonly slots: ReplicationSlots,
  ) {}

  private target(server: string): SqlTarget {
    return boundedSqlTarget(server, this.loaded.config.handyrep);
  }

  /** Makes `replica` stream from `upstream` (through its slot there with use_slots, else with no slot) and waits until it does. */
  async remaster(replica: string, upstream: string): Promise<RemasterResult> {
    const started = this.clock.now();
    const elapsed = (): number => this.clock.now() - started;
    this.registry.get(replica); // throws UnknownServerError for a name the registry does not know
    const upstreamDef = this.registry.get(upstream);
    let method = 'reload' as 'reload' | 'restart';
    let previous: string | undefined;
    try {
      const slot = this.slots.inUse() ? this.slots.slotName(replica) : '';
      await this.sql.withSession(this.target(replica), async (session) => {
        const rows = await session.query<{ version: string; conninfo: string; in_recovery: boolean; data_directory: string }>(
          "SELECT current_setting('server_version_num') AS version, current_setting('primary_conninfo') AS conninfo, pg_is_in_recovery() AS in_recovery, current_setting('data_directory') AS data_directory",
        );
        const row = rows[0];
        if (!row?.in_recovery) throw new Error(`${replica} is not in recovery; only a replica can be remastered`);
        previous = this.serverAt(row.conninfo, replica);
        // The slot exists before the replica names it: a replica pointed at a missing slot cannot stream.
        if (slot !== '') await this.slots.ensure(upstream, [replica]);
        const planned = this.plan(replica, row.conninfo, row.data_directory, upstreamDef.hostname, upstreamDef.port);
        if (planned.passfile) {
          // Before primary_conninfo names it: the replica reconnects as soon as it reloads.
          await this.shell.writeFile(replica, planned.passfile.path, planned.passfile.content, { mode: 0o600, timeoutMs: this.loaded.config.handyrep.ssh_timeout * 1000 });
        }
        await session.query(alterSystemStatement('primary_conninfo', planned.conninfo));
        await session.query(alterSystemStatement('primary_slot_name', slot));
        if (Number(row.version) >= 130000) await session.query('SELECT pg_reload_conf()');
        else method = 'restart';
      });
      if (method === 'restart') {
        const restarted = await this.plugins.forServer('control', replica).restart(replica);
        if (restarted.result !== 'SUCCESS') return fail(`restarting ${replica} to apply primary_conninfo failed: ${restarted.details}`, { method, duration_ms: elapsed() });
      }
    } catch (err) {
      return fail(`could not remaster ${replica} to ${upstream}: ${errorMessage(err)}`, { method, duration_ms: elapsed() });
    }
    const following = await this.waitStreaming(replica, upstreamDef.hostname);
    if (!following) {
      return fail(`${replica} was pointed at ${upstream} but does not stream from it within ${FOLLOW_TIMEOUT_MS / 1000} s`, { method, duration_ms: elapsed() });
    }
    this.logger.info(`${replica} now streams from ${upstream} (${method})`, { server: replica });
    const released = await this.slots.releaseUnused(replica, this.unusedSlotHolders(previous, upstream));
    return success([`${replica} streams from ${upstream}`, ...released].join('; '), { method, duration_ms: elapsed() });
  }

  /** The server (other than `replica`) a primary_conninfo points at, if the registry has it. */
  private serverAt(conninfo: string, replica: string): string | undefined {
    const target = conninfoUpstream(conninfo);
    if (!target) return undefined;
    return this.registry.list().find((server) => server.name !== replica && server.hostname === target.host && server.port === target.port)?.name;
  }

  /**
   * Where the remastered replica's slot is no longer used: its previous
   * upstream while that is enabled (a disabled one, such as a failed
   * master, is left to rejoin's clean-up and not waited for), and its
   * current upstream when use_slots is off.
   */
  private unusedSlotHolders(previous: string | undefined, upstream: string): string[] {
    const holders: string[] = [];
    if (previous !== undefined && previous !== upstream && this.registry.get(previous).enabled) holders.push(previous);
    if (!this.slots.inUse()) holders.push(upstream);
    return holders;
  }

  /**
   * The replica's primary_conninfo pointed at the new upstream, never with a
   * password in it (it would sit in postgresql.auto.conf and show in
   * pg_settings): an empty one gets host, port, user and a passfile holding
   * `[passwords] replication_password`; an existing one keeps its keys, and a
   * `password=` in it moves into that passfile. `replication_sslmode` and
   * `replication_sslrootcert`, when set, replace the TLS keys.
   */
  private plan(replica: string, current: string, dataDirectory: string, host: string, port: number): PlannedConninfo {
    const tls = replicationTlsPairs(this.settings);
    const tlsKeys = new Set(tls.map(([key]) => key));
    const passfilePath = posix.join(dataDirectory, REMASTER_PASSFILE);
    if (current.trim() === '') {
      const user = this.loaded.config.handyrep.replication_user;
      const password = this.secrets.get('replication_password');
      const pairs: [string, string][] = [['host', host], ['port', String(port)], ['user', user]];
      if (password !== undefined) pairs.push(['passfile', passfilePath]);
      pairs.push(...tls, ['application_name', replica]);
      return { conninfo: formatConninfo(pairs), ...(password === undefined ? {} : { passfile: { path: passfilePath, content: passfileLine(user, password) } }) };
    }
    const existing = parseConninfo(current);
    const password = existing.find(([key]) => key === 'password')?.[1];
    const user = existing.find(([key]) => key === 'user')?.[1] ?? this.loaded.config.handyrep.replication_user;
    const kept = existing.filter(([key]) => key !== 'password' && !tlsKeys.has(key) && !(password !== undefined && key === 'passfile'));
    if (password !== undefined) kept.push(['passfile', passfilePath]);
    kept.push(...tls);
    const conninfo = retargetConninfo(formatConninfo(kept), host, port, replica);
    return { conninfo, ...(password === undefined ? {} : { passfile: { path: passfilePath, content: passfileLine(user, password) } }) };
  }

  private async waitStreaming(replica: string, upstreamHost: string): Promise<boolean> {
    const deadline = this.clock.now() + FOLLOW_TIMEOUT_MS;
    while (this.clock.now() < deadline) {
      try {
        const rows = await this.sql.query<{ status: string; sender_host: string | null }>(
          this.target(replica),
          'SELECT status, sender_host FROM pg_stat_wal_receiver',
        );
        if (rows.some((row) => row.status === 'streaming' && row.sender_host === upstreamHost)) return true;
      } catch {
        // A replica restarting to apply the change refuses for a moment.
      }
      await this.clock.sleep(100);
    }
    return false;
  }
}
