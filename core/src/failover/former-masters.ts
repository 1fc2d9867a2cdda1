import 'reflect-metadata';
import { errorMessage } from '@handyrep/plugin-sdk';
import type { Clock, Logger, SqlClient } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { AlertService } from '../alerts/alert-service.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { serverStatus } from '../status/server-status.js';

/** Where the names of failed-over masters live in the saved state's `extra`. */
export const FORMER_MASTERS_KEY = 'former_masters';

/** The former masters recorded in the saved state. */
export function formerMasters(registry: ServerRegistry): string[] {
  const value = registry.getExtra(FORMER_MASTERS_KEY);
  return Array.isArray(value) ? value.filter((name): name is string => typeof name === 'string') : [];
}

/** Records a master that was just failed over from. */
export function addFormerMaster(registry: ServerRegistry, name: string): void {
  const known = formerMasters(registry);
  if (!known.includes(name)) registry.setExtra(FORMER_MASTERS_KEY, [...known, name]);
}

/**
 * A former master must never take writes again (issue 13): one that comes
 * back (partition healed, host rebooted) answering out of recovery is
 * stopped at once through its control plugin (or the fencing plugin) and
 * alerted; it stays disabled until rejoin (pg_rewind) or a clone brings it
 * back, which discards its commits that no standby acknowledged. Watched on
 * every check until it is enabled again.
 */
@injectable()
export class FormerMasters {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(AlertService) private readonly alerts: AlertService,
  ) {}

  /** Looks at every disabled former master; fences the ones that answer out of recovery. Never throws. */
  async check(): Promise<string[]> {
    const watched = formerMasters(this.registry).filter((name) => this.registry.has(name));
    const still = watched.filter((name) => !this.registry.get(name).enabled);
    if (still.length !== formerMasters(this.registry).length) this.registry.setExtra(FORMER_MASTERS_KEY, still.length > 0 ? still : undefined);
    const fenced = await Promise.all(still.map(async (name) => ((await this.checkOne(name)) ? name : undefined)));
    return fenced.filter((name): name is string => name !== undefined);
  }

  private async checkOne(name: string): Promise<boolean> {
    const ms = this.loaded.config.handyrep.connect_timeout * 1000;
    let inRecovery: boolean | undefined;
    try {
      const rows = await this.sql.query<{ in_recovery: boolean }>({ server: name, connectTimeoutMs: ms, statementTimeoutMs: ms }, 'SELECT pg_is_in_recovery() AS in_recovery');
      inRecovery = rows[0]?.in_recovery;
    } catch {
      return false;
    }
    if (inRecovery !== false) return false;
    const how = await this.stop(name);
    const message = `former master ${name} came back out of recovery and could take writes: ${how}; it stays disabled until rejoin (pg_rewind discards its commits no standby acknowledged)`;
    this.registry.setStatus(name, serverStatus('down', message, this.clock.now()));
    this.logger.error(message, { component: 'failover', server: name });
    await this.alerts.send('cluster_down', 'critical', message, name);
    return true;
  }

  private async stop(name: string): Promise<string> {
    try {
      const stopped = await this.plugins.forServer('control', name).faststop(name);
      if (stopped.result === 'SUCCESS') return 'stopped at once (immediate)';
      const fencing = this.plugins.cluster('fencing');
      if (fencing) {
        const fenced = await fencing.fence(name);
        if (fenced.fenced) return `fenced: ${fenced.details}`;
      }
      return `could NOT be stopped (${stopped.details})`;
    } catch (err) {
      return `could NOT be stopped (${errorMessage(err)})`;
    }
  }
}
