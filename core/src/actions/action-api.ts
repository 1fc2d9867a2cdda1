import 'reflect-metadata';
import { BadArgumentError, errorMessage, fail, success } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ReturnDictionary, ServerDefinition, SqlClient } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { booleanArgument, stringArgument } from '../api/arguments.js';
import { AvailabilityService } from '../availability/availability-service.js';
import { SERVER_PLUGIN_KEYS } from '../config/core-schema.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import { FailoverExecutor } from '../failover/failover-executor.js';
import type { FailoverResult } from '../failover/failover-executor.js';
import { MaintenanceMode } from '../cluster/maintenance-mode.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { RemasterService } from '../replication/remaster-service.js';
import { ReplicationSlots } from '../replication/replication-slots.js';
import type { RemasterResult } from '../replication/remaster-service.js';
import type { StateStore } from '../state/state-store.js';
import { serverStatus } from '../status/server-status.js';
import { HANDYREP_DB_KEY } from '../state/db-state-mirror.js';
import { ActionLock } from './action-lock.js';
import { boundedSqlTarget } from '../config/sql-target.js';

/** Roles that run PostgreSQL and so can be started, stopped and cloned. */
const DATABASE_ROLES = ['master', 'replica'];

function plainObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadArgumentError(`${name} must be an object of server properties`);
  }
  return value as Record<string, unknown>;
}

/**
 * The spec's Action API: changes to servers and to the cluster, each run
 * under the one action lock, each refusing bad input before anything runs.
 */
@injectable()
export class ActionApi {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(Tokens.stateStore) private readonly stateStore: StateStore,
    @inject(ActionLock) private readonly lock: ActionLock,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
    @inject(FailoverExecutor) private readonly executor: FailoverExecutor,
    @inject(RemasterService) private readonly remasterService: RemasterService,
    @inject(MaintenanceMode) private readonly maintenance: MaintenanceMode,
    @inject(ReplicationSlots) private readonly slots: ReplicationSlots,
  ) {}

  private databaseServer(name: unknown, argument = 'servername'): ServerDefinition {
    const server = this.registry.get(stringArgument(argument, name));
    if (!DATABASE_ROLES.includes(String(server.role))) {
      throw new BadArgumentError(`${server.name} has role ${String(server.role)}; only master and replica servers run PostgreSQL`);
    }
    return server;
  }

  private setStatus(name: string, status: Parameters<typeof serverStatus>[0], message: string): void {
    this.registry.setStatus(name, serverStatus(status, message, this.clock.now()));
    this.availability.refreshCluster();
  }

  /** `shutdown(servername)`: stops the server and checks it is down. The master needs `force`. */
  async shutdown(servername: unknown, force: unknown = false): Promise<ReturnDictionary> {
    const server = this.databaseServer(servername);
    const forced = booleanArgument('force', force, false);
    if (server.role === 'master' && server.enabled && !forced) {
      return fail(`${server.name} is the master; shutting it down stops the cluster's writes. Pass force to do it anyway`);
    }
    return this.lock.run(`shutdown ${server.name}`, async () => {
      const control = this.plugins.forServer('control', server.name);
      const stopped = await control.stop(server.name);
      const status = await control.status(server.name);
      if (stopped.result !== 'SUCCESS' || status.running) {
        return fail(`${server.name} did not shut down: ${stopped.details}`);
      }
      this.setStatus(server.name, 'down', 'shut down by HandyRep');
      return success(`${server.name} is shut down`);
    });
  }

  /** `startup(servername)`: starts the server and checks it answers. */
  async startup(servername: unknown): Promise<ReturnDictionary> {
    const server = this.databaseServer(servername);
    return this.lock.run(`startup ${server.name}`, async () => {
      const started = await this.plugins.forServer('control', server.name).start(server.name);
      if (started.result !== 'SUCCESS') return fail(`${server.name} did not start: ${started.details}`);
      return this.confirmRunning(server.name, 'started');
    });
  }

  /** `restart(servername)`: restarts the server and checks it answers. */
  async restart(servername: unknown): Promise<ReturnDictionary> {
    const server = this.databaseServer(servername);
    return this.lock.run(`restart ${server.name}`, () => this.restartHeld(server.name));
  }

  /** The restart itself (control plugin, then a poll), for a caller that already holds the action lock. */
  async restartHeld(name: string): Promise<ReturnDictionary> {
    const restarted = await this.lock.expectingDown(name, () => this.plugins.forServer('control', name).restart(name));
    if (restarted.result !== 'SUCCESS') return fail(`${name} did not restart: ${restarted.details}`);
    return this.confirmRunning(name, 'restarted');
  }

  private async confirmRunning(name: string, what: string): Promise<ReturnDictionary> {
    const { poll } = await this.availability.pollServer(this.registry.get(name));
    this.availability.refreshCluster();
    return poll.result === 'SUCCESS' ? success(`${name} ${what} and accepts connections`) : fail(`${name} ${what}, but does not accept connections: ${poll.details}`);
  }

  /** `promote(newmaster)`: promotes a replica and confirms it takes writes. No other failover step; it does not prevent two masters. */
  async promote(newmaster: unknown): Promise<ReturnDictionary> {
    const server = this.databaseServer(newmaster, 'newmaster');
    if (server.role !== 'replica') return fail(`${server.name} is not a replica`);
    return this.lock.run(`promote ${server.name}`, async () => {
      const outcome = await this.executor.promoteAndConfirm(server.name);
      if (outcome.result === 'SUCCESS') {
        this.setStatus(server.name, 'warning', 'promoted by hand: it accepts writes but is not the registered master');
      }
      return { result: outcome.result, details: outcome.details };
    });
  }

  /**
   * `manual_failover(newmaster, remaster)`: a planned switchover when the
   * master runs (stopped cleanly after proxies are paused, so no acknowledged
   * commit is lost), a failover otherwise. `ignore_lag_limit` explicitly
   * allows a named replica past its lag limit.
   */
  async manualFailover(newmaster: unknown = null, remaster: unknown = null, ignoreLagLimit: unknown = false): Promise<FailoverResult | ReturnDictionary> {
    const target = newmaster === null || newmaster === undefined ? undefined : this.databaseServer(newmaster, 'newmaster').name;
    const doRemaster = booleanArgument('remaster', remaster, this.loaded.config.failover.remaster);
    const override = booleanArgument('ignore_lag_limit', ignoreLagLimit, false);
    const master = this.registry.master();
    if (!master) return fail('no enabled master to fail over from');
    if (target === master.name) return fail(`${target} is already the master`);
    return this.lock.run('manual failover', async () => {
      const { outcome } = await this.availability.pollServer(master);
      const run = (): Promise<FailoverResult> =>
        this.executor.failover({
          trigger: 'manual',
          reason: `manual failover${target ? ` to ${target}` : ''} requested`,
          ...(target ? { newmaster: target } : {}),
          remaster: doRemaster,
          ignoreLagLimit: override,
          planned: outcome === 'ok',
        });
      // A switchover stops the running master itself: not a failure for the periodic check to act on.
      return outcome === 'ok' ? this.lock.expectingDown(master.name, run) : run();
    });
  }

  /**
   * `clone(replicaserver, reclone, clonefrom, force)`: makes a server a
   * replica of the master and starts it; `force` lets a reclone empty a
   * pgdata that holds no PostgreSQL data directory.
   */
  async clone(replicaserver: unknown, reclone: unknown = false, clonefrom: unknown = null, force: unknown = false): Promise<ReturnDictionary> {
    const target = this.databaseServer(replicaserver, 'replicaserver');
    const overwrite = booleanArgument('reclone', reclone, false);
    const forced = booleanArgument('force', force, false);
    const source = clonefrom === null || clonefrom === undefined ? undefined : this.databaseServer(clonefrom, 'clonefrom');
    return this.lock.run(`clone ${target.name}`, () => this.cloneUnlocked(target, overwrite, source, forced));
  }

  private async cloneUnlocked(
    target: ServerDefinition,
    overwrite: boolean,
    from: ServerDefinition | undefined,
    force = false,
  ): Promise<ReturnDictionary<{ duration_ms?: number; bytes_copied?: number }>> {
    const master = this.registry.master();
    if (!master) return fail('no enabled master: nothing to clone from');
    if (target.name === master.name || target.role === 'master') return fail(`${target.name} is the master: refusing to clone over it`);
    const source = from ?? master;
    if (source.name === target.name) return fail('a server cannot be cloned from itself');
    const { outcome } = await this.availability.pollServer(target);
    if ((outcome === 'ok' || outcome === 'rejecting') && !overwrite) {
      return fail(`${target.name} has a running PostgreSQL; use reclone to replace it`);
    }
    if (outcome === 'ok' || outcome === 'rejecting') {
      const stopped = await this.plugins.forServer('control', target.name).stop(target.name);
      if (stopped.result !== 'SUCCESS') return fail(`cannot stop ${target.name} before recloning: ${stopped.details}`);
    }
    const slot = await this.slotFor(target.name, master.name);
    if (typeof slot === 'object') return slot;
    const cloned = await this.plugins
      .forServer('clone', target.name)
      .clone({ target: target.name, source: source.name, upstream: master.name, reclone: overwrite, force, ...(slot === '' ? {} : { slotName: slot }) });
    if (cloned.result !== 'SUCCESS') {
      this.setStatus(target.name, 'down', `clone failed: ${cloned.details}`);
      return fail(`cloning ${target.name} from ${source.name} failed: ${cloned.details}`, { duration_ms: cloned.duration_ms });
    }
    const started = await this.plugins.forServer('control', target.name).start(target.name);
    if (started.result !== 'SUCCESS') return fail(`${target.name} was cloned but did not start: ${started.details}`);
    const confirmed = await this.confirmRunning(target.name, `cloned from ${source.name} and started`);
    return { ...confirmed, duration_ms: cloned.duration_ms, ...(cloned.bytes_copied === undefined ? {} : { bytes_copied: cloned.bytes_copied }) };
  }

  /**
   * With use_slots, the replica's slot on `upstream`, created unless it exists
   * ('' without use_slots); a FAIL dictionary when it cannot be created.
   */
  private async slotFor(replica: string, upstream: string): Promise<string | ReturnDictionary> {
    if (!this.slots.inUse()) return '';
    try {
      await this.slots.ensure(upstream, [replica]);
      return this.slots.slotName(replica);
    } catch (err) {
      return fail(`the replication slot of ${replica} cannot be created on ${upstream}: ${errorMessage(err)}; nothing was changed on ${replica}`);
    }
  }

  /** `enable(servername)`: enables a definition, then verifies the server. */
  async enable(servername: unknown): Promise<ReturnDictionary> {
    const name = stringArgument('servername', servername);
    return this.lock.run(`enable ${name}`, async () => {
      this.registry.enable(name);
      const server = this.registry.get(name);
      if (!['master', 'replica', 'proxy', 'pgbouncer'].includes(String(server.role))) return success(`${name} enabled`);
      // Its slot may have been dropped while it was disabled: back before it reconnects (WAL already gone needs a reclone).
      const master = this.registry.master();
      const slot = server.role === 'replica' && master ? await this.slotFor(name, master.name) : '';
      const slotNote = typeof slot === 'object' ? `; ${slot.details}` : slot === '' ? '' : `; slot ${slot} on ${master?.name ?? ''}`;
      const verified = await this.availability.verifyServer(name);
      return success(`${name} enabled${slotNote}; verification: ${verified.result} ${verified.details}`, { verify: verified });
    });
  }

  /** `disable(servername)`: no longer checked; a database server is also shut down. The master needs `force`. */
  async disable(servername: unknown, force: unknown = false): Promise<ReturnDictionary> {
    const server = this.registry.get(stringArgument('servername', servername));
    if (server.role === 'master' && server.enabled && !booleanArgument('force', force, false)) {
      return fail(`${server.name} is the enabled master; disabling it leaves the cluster without one. Pass force to do it anyway`);
    }
    return this.lock.run(`disable ${server.name}`, async () => {
      this.registry.disable(server.name);
      this.availability.refreshCluster();
      if (!DATABASE_ROLES.includes(String(server.role))) return success(`${server.name} disabled`);
      try {
        const stopped = await this.plugins.forServer('control', server.name).stop(server.name);
        return success(`${server.name} disabled; shutdown: ${stopped.result} ${stopped.details}`);
      } catch (err) {
        return success(`${server.name} disabled; it could not be shut down: ${errorMessage(err)}`);
      }
    });
  }

  /** `remove(servername)`: deletes a disabled server's definition. */
  async remove(servername: unknown): Promise<ReturnDictionary> {
    const name = stringArgument('servername', servername);
    return this.lock.run(`remove ${name}`, async () => {
      const server = this.registry.get(name);
      this.registry.remove(name);
      this.availability.refreshCluster();
      if (!DATABASE_ROLES.includes(String(server.role))) return success(`${name} removed`);
      return success(`${name} removed; ${await this.slots.forgetRemoved(server)}`);
    });
  }

  private checkPluginNames(props: Record<string, unknown>): void {
    for (const key of Object.keys(SERVER_PLUGIN_KEYS)) {
      const value = props[key];
      if (typeof value === 'string' && value !== '' && !this.plugins.isLoaded(value)) {
        throw new BadArgumentError(`${key} = ${value}: that plugin is not loaded; name it in the configuration and reload_conf first`);
      }
    }
  }

  /** `alter_server_def(servername, serverprops)`: changes a definition; returns the result. */
  async alterServerDef(servername: unknown, serverprops: unknown): Promise<ReturnDictionary<{ definition?: ServerDefinition }>> {
    const name = stringArgument('servername', servername);
    const props = plainObject('serverprops', serverprops);
    this.checkPluginNames(props);
    return this.lock.run(`alter_server_def ${name}`, async () => {
      const definition = this.registry.alter(name, props);
      this.availability.refreshCluster();
      return success(`${name} changed`, { definition });
    });
  }

  /** `add_server(servername, serverprops)`: a new, disabled server (role replica unless given; hostname required). */
  async addServer(servername: unknown, serverprops: unknown): Promise<ReturnDictionary<{ definition?: ServerDefinition }>> {
    const name = stringArgument('servername', servername, 63);
    const props = plainObject('serverprops', serverprops);
    this.checkPluginNames(props);
    return this.lock.run(`add_server ${name}`, async () => {
      const definition = this.registry.add(name, props);
      return success(`${name} added (disabled; enable it when ready)`, { definition });
    });
  }

  /** `connection_proxy_init`: pushes the first proxy configuration. */
  async connectionProxyInit(): Promise<ReturnDictionary> {
    const proxies = this.plugins.cluster('connection_failover');
    if (!proxies) return success('connection failover is not used');
    return this.lock.run('connection_proxy_init', () => proxies.init());
  }

  /** `cleanup_archive`: deletes expired WAL from the archive. */
  async cleanupArchive(): Promise<ReturnDictionary> {
    if (!this.loaded.config.archive.archiving) return success('archiving is disabled: nothing to clean up');
    const cleanup = this.plugins.cluster('archive_cleanup');
    if (!cleanup) return fail('no [archive] archive_delete_method is configured');
    return this.lock.run('cleanup_archive', () => cleanup.cleanup());
  }

  /** `start_archiving`: pushes the archive script and enables archiving on the master. */
  async startArchiving(): Promise<ReturnDictionary> {
    const { archive, master } = this.archiveSetup();
    return this.lock.run('start_archiving', async () => {
      const pushed = await archive.pushScript(master);
      if (pushed.result !== 'SUCCESS') return fail(`pushing the archive script to ${master} failed: ${pushed.details}`);
      return archive.start(master);
    });
  }

  /** `stop_archiving`: stops copying WAL on the master. */
  async stopArchiving(): Promise<ReturnDictionary> {
    const { archive, master } = this.archiveSetup();
    return this.lock.run('stop_archiving', () => archive.stop(master));
  }

  private archiveSetup(): { archive: NonNullable<ReturnType<PluginHost['byKey']>> & { pushScript(server: string): Promise<ReturnDictionary>; start(server: string): Promise<ReturnDictionary>; stop(server: string): Promise<ReturnDictionary> }; master: string } {
    if (!this.loaded.config.archive.archiving) throw new BadArgumentError('archiving is not configured ([archive] archiving = false)');
    const archive = this.plugins.cluster('archive');
    if (!archive) throw new BadArgumentError('no [archive] archive_script_method is configured');
    const master = this.registry.master();
    if (!master) throw new BadArgumentError('no enabled master');
    return { archive, master: master.name };
  }

  /** `remaster(replica, newmaster)`: points a replica at the master (or a named upstream). */
  async remaster(replica: unknown, newmaster: unknown = null): Promise<RemasterResult | ReturnDictionary> {
    const server = this.databaseServer(replica, 'replica');
    if (server.role !== 'replica') return fail(`${server.name} is not a replica`);
    const upstream = newmaster === null || newmaster === undefined ? this.registry.master()?.name : this.databaseServer(newmaster, 'newmaster').name;
    if (!upstream) return fail('no enabled master to remaster to');
    if (upstream === server.name) return fail('a replica cannot stream from itself');
    return this.lock.run(`remaster ${server.name}`, () => this.remasterService.remaster(server.name, upstream));
  }

  /**
   * `rejoin(servername, reclone)`: brings a disabled former master (or replica)
   * back as a replica of the current master: stopped if it still runs, then
   * rewound with pg_rewind when the clone plugin can, recloned when that fails
   * and `reclone` allows it (default), started, and enabled.
   */
  async rejoin(servername: unknown, reclone: unknown = true): Promise<ReturnDictionary<{ method?: 'rewind' | 'clone' }>> {
    const server = this.databaseServer(servername);
    const allowReclone = booleanArgument('reclone', reclone, true);
    if (server.enabled) return fail(`${server.name} is enabled; rejoin is for a disabled former master or replica`);
    const master = this.registry.master();
    if (!master) return fail('no enabled master to rejoin');
    return this.lock.run(`rejoin ${server.name}`, () => this.rejoinHeld(server, master, allowReclone));
  }

  /** The rejoin itself, for a caller that already holds the action lock and checked that `server` is disabled. */
  async rejoinHeld(server: ServerDefinition, master: ServerDefinition, allowReclone: boolean): Promise<ReturnDictionary<{ method?: 'rewind' | 'clone' }>> {
    if (server.role !== 'replica') this.registry.alter(server.name, { role: 'replica' });
    const target = this.registry.get(server.name);
    const control = this.plugins.forServer('control', target.name);
    const { outcome } = await this.availability.pollServer(target);
    if (outcome === 'ok' || outcome === 'rejecting') {
      const stopped = await control.stop(target.name);
      if (stopped.result !== 'SUCCESS') return fail(`cannot stop ${target.name} before rejoining: ${stopped.details}`);
    }
    const clonePlugin = this.plugins.forServer('clone', target.name);
    let method: 'rewind' | 'clone' = 'clone';
    let rewindProblem = 'the clone plugin cannot rewind';
    if (clonePlugin.rewind) {
      const slot = await this.slotFor(target.name, master.name);
      if (typeof slot === 'object') return slot;
      const rewound = await clonePlugin.rewind({ target: target.name, source: master.name, ...(slot === '' ? {} : { slotName: slot }) });
      if (rewound.result === 'SUCCESS') {
        method = 'rewind';
        const started = await control.start(target.name);
        if (started.result !== 'SUCCESS') return fail(`${target.name} was rewound but did not start: ${started.details}`, { method });
      } else {
        rewindProblem = `pg_rewind failed: ${rewound.details}`;
      }
    }
    if (method === 'clone') {
      if (!allowReclone) return fail(`${target.name} cannot rejoin without a reclone (${rewindProblem})`);
      this.logger.info(`rejoining ${target.name} by reclone: ${rewindProblem}`, { server: target.name });
      const cloned = await this.cloneUnlocked(target, true, undefined);
      // Both reasons: the reclone's alone hides why the cheaper rewind was not enough.
      if (cloned.result !== 'SUCCESS') return fail(`rejoin of ${target.name} failed: ${rewindProblem}; the reclone failed too: ${cloned.details}`, { method });
    }
    this.registry.enable(target.name);
    const stale = await this.slots.dropStaleOn(target.name).then(
      (names) => (names.length > 0 ? `; its old slots ${names.join(', ')} dropped` : ''),
      (err: unknown) => `; its old slots could not be listed or dropped: ${errorMessage(err)}`,
    );
    const verified = await this.availability.verifyServer(target.name);
    return {
      result: verified.result,
      details: `${target.name} rejoined as a replica of ${master.name} by ${method}${stale}: ${verified.details}`,
      method,
    };
  }

  /** `init_handyrep_db`: creates the HandyRep schema and table on the master and writes the state there. */
  async initHandyrepDb(): Promise<ReturnDictionary> {
    const master = this.registry.master();
    if (!master) return fail('no enabled master');
    const { handyrep_schema: schema, handyrep_table: table } = this.loaded.config.handyrep;
    const settings = this.loaded.config.handyrep;
    const state = this.registry.snapshot(this.stateStore.currentGeneration());
    try {
      await this.sql.withSession(
        boundedSqlTarget(master.name, settings),
        async (session) => {
          // Schema and table names match ^[a-z_][a-z0-9_]*$ (config schema), so quoting them is enough.
          await session.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
          await session.query(
            `CREATE TABLE IF NOT EXISTS "${schema}"."${table}" (id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1), generation bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), state jsonb NOT NULL)`,
          );
          await session.query(
            `INSERT INTO "${schema}"."${table}" (id, generation, state) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET generation = EXCLUDED.generation, updated_at = now(), state = EXCLUDED.state`,
            [state.generation, JSON.stringify(state)],
          );
        },
      );
    } catch (err) {
      return fail(`could not create ${schema}.${table} on ${master.name}: ${errorMessage(err)}`);
    }
    this.registry.setExtra(HANDYREP_DB_KEY, { schema, table });
    this.logger.info(`HandyRep table ${schema}.${table} created on ${master.name}`, { component: 'api' });
    return success(`${schema}.${table} is ready on ${master.name}`);
  }

  /** `pause`: maintenance mode on — checks go on, nothing automatic happens. */
  pause(): ReturnDictionary<{ paused_since: number | undefined }> {
    this.maintenance.pause();
    return success(`HandyRep is ${this.maintenance.describe()}: no automatic restart or failover until resume`, { paused_since: this.maintenance.since() });
  }

  /** `resume`: maintenance mode off. */
  resume(): ReturnDictionary {
    const was = this.maintenance.paused();
    this.maintenance.resume();
    return success(was ? 'resumed: automatic actions are on again' : 'HandyRep was not paused');
  }
}
