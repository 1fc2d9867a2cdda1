import 'reflect-metadata';
import { errorMessage, fail, success } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ReturnDictionary, Secrets, SqlClient } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { formatConninfo, retargetConninfo, sqlLiteral } from './primary-conninfo.js';

/** How long a remastered replica may take to stream from its new upstream. */
const FOLLOW_TIMEOUT_MS = 15_000;

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
  ) {}

  private target(server: string): { server: string; connectTimeoutMs: number; statementTimeoutMs: number } {
    const settings = this.loaded.config.handyrep;
    return { server, connectTimeoutMs: settings.connect_timeout * 1000, statementTimeoutMs: settings.statement_timeout * 1000 };
  }

  /** Makes `replica` stream from `upstream` and waits until it does. */
  async remaster(replica: string, upstream: string): Promise<RemasterResult> {
    const started = this.clock.now();
    const elapsed = (): number => this.clock.now() - started;
    this.registry.get(replica); // throws UnknownServerError for a name the registry does not know
    const upstreamDef = this.registry.get(upstream);
    let method = 'reload' as 'reload' | 'restart';
    try {
      await this.sql.withSession(this.target(replica), async (session) => {
        const rows = await session.query<{ version: string; conninfo: string; in_recovery: boolean }>(
          "SELECT current_setting('server_version_num') AS version, current_setting('primary_conninfo') AS conninfo, pg_is_in_recovery() AS in_recovery",
        );
        const row = rows[0];
        if (!row?.in_recovery) throw new Error(`${replica} is not in recovery; only a replica can be remastered`);
        const conninfo =
          row.conninfo.trim() === ''
            ? this.freshConninfo(replica, upstreamDef.hostname, upstreamDef.port)
            : retargetConninfo(row.conninfo, upstreamDef.hostname, upstreamDef.port, replica);
        await session.query(`ALTER SYSTEM SET primary_conninfo = ${sqlLiteral(conninfo)}`);
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
    return success(`${replica} streams from ${upstream}`, { method, duration_ms: elapsed() });
  }

  private freshConninfo(replica: string, host: string, port: number): string {
    const pairs: [string, string][] = [
      ['host', host],
      ['port', String(port)],
      ['user', this.loaded.config.handyrep.replication_user],
      ['application_name', replica],
    ];
    const password = this.secrets.get('replication_password');
    if (password !== undefined) pairs.push(['password', password]);
    return formatConninfo(pairs);
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
