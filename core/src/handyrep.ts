import 'reflect-metadata';
import { resolve as resolvePath } from 'node:path';
import type { InjectionToken } from 'tsyringe';
import { errorMessage, fail, success } from '@handyrep/plugin-sdk';
import type { ClusterStatusName, Logger, PluginKind, PluginKindMap, ReturnDictionary, ServerDefinition, StatusFields } from '@handyrep/plugin-sdk';
import { ActionApi } from './actions/action-api.js';
import { ActionLock } from './actions/action-lock.js';
import { RollingRestart } from './actions/rolling-restart.js';
import type { RollingRestartResult } from './actions/rolling-restart.js';
import { InformationApi } from './api/information-api.js';
import type { SettingDictionary, StatusDictionary } from './api/information-api.js';
import { asReturnDictionary } from './api/return-boundary.js';
import { StatusJsonCache } from './api/status-json-cache.js';
import { answerHealthCheck } from './status/load-balancer-health.js';
import type { HealthAnswer, HealthCheck } from './status/load-balancer-health.js';
import { AlertService } from './alerts/alert-service.js';
import { AvailabilityService } from './availability/availability-service.js';
import type { VerifyResult } from './availability/availability-service.js';
import { FailoverCheck } from './failover/failover-check.js';
import type { FailoverCheckResult } from './failover/failover-check.js';
import { FailoverExecutor } from './failover/failover-executor.js';
import { ReplicationSlots } from './replication/replication-slots.js';
import type { SlotStatus } from './replication/replication-slots.js';
import type { FailoverResult } from './failover/failover-executor.js';
import { recoverInterruptedFailover } from './failover/journal-recovery.js';
import { MaintenanceMode } from './cluster/maintenance-mode.js';
import { ActingGuard } from './cluster/acting-guard.js';
import { MasterWatcher } from './monitor/master-watcher.js';
import { postgresTls } from './capabilities/remote-capabilities.js';
import { problemPlaces } from './config/problem-places.js';
import { Monitor } from './monitor/monitor.js';
import { SwitchoverScheduler } from './failover/switchover-scheduler.js';
import type { ScheduleResult } from './failover/switchover-scheduler.js';
import type { RemasterResult } from './replication/remaster-service.js';
import { buildRuntime, closeRuntime } from './runtime.js';
import { Tokens } from './di/tokens.js';
import type { OpenOptions, Runtime } from './runtime.js';
import type { LockHolderRole } from './state/state-file-lock.js';

export type { OpenOptions } from './runtime.js';

/** What `getStatus` checks first: nothing (`cached`), a poll of every server, or a full verification. */
export type StatusCheckType = 'cached' | 'poll' | 'verify';

/**
 * HandyRep as a library: open it on a config file, then call the spec's
 * functions as camelCase methods (docs/library-api.md has the 1:1 table).
 * Return values keep the spec's dictionaries and keys; bad arguments give a
 * FAIL dictionary and change nothing.
 */
export class HandyRep {
  private monitor: Monitor | undefined;
  private readonly statusJson = new StatusJsonCache();

  private constructor(
    private runtime: Runtime,
    private readonly options: OpenOptions,
  ) {}

  /**
   * Opens HandyRep on `configFile` (default `handyrep.conf` in the working
   * directory). Rejects with a ConfigError naming the file when it is missing,
   * malformed or invalid, or when a plugin cannot be loaded or created.
   */
  static async open(configFile = 'handyrep.conf', options: OpenOptions = {}): Promise<HandyRep> {
    const runtime = await buildRuntime(configFile, options);
    const hr = new HandyRep(runtime, options);
    await recoverInterruptedFailover(runtime);
    runtime.logger.info(`HandyRep opened on ${runtime.loaded.file}`, { component: 'core', servers: runtime.registry.list().length });
    return hr;
  }

  private resolve<T>(token: InjectionToken<T>): T {
    return this.runtime.container.resolve(token);
  }

  private guard<T extends object>(name: string, work: () => Promise<T> | T): Promise<T | ReturnDictionary<{ code?: string }>> {
    return asReturnDictionary(this.runtime.logger, name, work);
  }

  /** The config file this instance was opened on. */
  get configFile(): string {
    return this.runtime.loaded.file;
  }

  // ---- Information API ----

  /**
   * `get_status(check_type)`: cluster and server status, after a poll or verify when asked.
   * A check_type outside the three (from JavaScript, the CLI or the web API) gives the spec's FAIL dictionary.
   */
  getStatus(checkType?: StatusCheckType): Promise<StatusDictionary>;
  getStatus(checkType: unknown): Promise<StatusDictionary | ReturnDictionary>;
  async getStatus(checkType: unknown = 'cached'): Promise<StatusDictionary | ReturnDictionary> {
    return this.guard('get_status', async () => {
      // Which instance acts is asked fresh (the plugin answers locally), not taken from the last check.
      await this.resolve(ActingGuard).check();
      if (checkType === 'poll') await this.resolve(AvailabilityService).pollAll();
      else if (checkType === 'verify') await this.resolve(AvailabilityService).verifyAll();
      return this.resolve(InformationApi).getStatus(checkType === 'poll' || checkType === 'verify' ? 'cached' : checkType);
    });
  }

  /**
   * `get_status('cached')` as JSON bytes (the daemon's web API serves them):
   * the same dictionary, serialised once per change instead of once per call.
   * The acting decision is asked fresh each time, as getStatus does.
   */
  async getStatusJson(): Promise<Buffer> {
    const result = await this.guard('get_status', async () => {
      const acting = await this.resolve(ActingGuard).check();
      const lag = [...this.resolve(AvailabilityService).recentLag()].map(([name, mb]) => `${name}=${mb}`).join(',');
      const slots = this.resolve(ReplicationSlots).status().map((slot) => `${slot.slot_name}:${String(slot.active)}:${String(slot.retained_wal_bytes)}`).join(',');
      const key = `${String(acting.acting)}|${acting.acting_instance ?? ''}|${lag}|${slots}`;
      return { bytes: this.statusJson.bytes(this.runtime.registry, key, () => this.resolve(InformationApi).getStatus('cached')) };
    });
    return 'bytes' in result ? result.bytes : Buffer.from(JSON.stringify(result), 'utf8');
  }

  /** Whether `[handyrep] health_endpoints` is on (read per request, so reload_conf switches them). */
  healthEndpointsEnabled(): boolean {
    return this.runtime.loaded.config.handyrep.health_endpoints;
  }

  /**
   * A load balancer's health check (`/health/master`, `/health/replica/<name>`)
   * answered from the cached status and recent lag: no SQL, no SSH.
   */
  loadBalancerHealth(check: HealthCheck): HealthAnswer {
    const lag = this.resolve(AvailabilityService).recentLag();
    return answerHealthCheck(check, this.runtime.registry.list(), (name) => lag.get(name));
  }

  /**
   * `get_cluster_status(verify)`: status, status_no, status_ts, status_message of the cluster.
   * A verify that is not a boolean (from JavaScript, the CLI or the web API) gives the spec's FAIL dictionary.
   */
  getClusterStatus(verify?: boolean): Promise<StatusFields<ClusterStatusName>>;
  getClusterStatus(verify: unknown): Promise<StatusFields<ClusterStatusName> | ReturnDictionary>;
  async getClusterStatus(verify: unknown = false): Promise<StatusFields<ClusterStatusName> | ReturnDictionary> {
    return this.guard('get_cluster_status', async () => {
      if (verify === true) await this.resolve(AvailabilityService).verifyAll();
      return this.resolve(InformationApi).getClusterStatus(verify === true ? false : verify);
    });
  }

  /** `get_master_name()`: the enabled master's name, or null. */
  getMasterName(): string | null {
    return this.resolve(InformationApi).getMasterName();
  }

  /**
   * `get_server_info(servername, verify)`: `{ name: definition }` for one server or all.
   * All servers always answer with the definitions; one server gives a FAIL dictionary when it is unknown.
   */
  getServerInfo(servername?: null, verify?: boolean): Promise<Record<string, ServerDefinition>>;
  getServerInfo(servername: unknown, verify?: unknown): Promise<Record<string, ServerDefinition> | ReturnDictionary>;
  async getServerInfo(servername: unknown = null, verify: unknown = false): Promise<Record<string, ServerDefinition> | ReturnDictionary> {
    return this.guard('get_server_info', async () => {
      if (verify === true) {
        const availability = this.resolve(AvailabilityService);
        if (servername === null || servername === undefined) await availability.verifyAll();
        else if (typeof servername === 'string' && this.runtime.registry.has(servername)) await availability.verifyServer(servername);
      }
      return this.resolve(InformationApi).getServerInfo(servername, verify === true ? false : verify);
    });
  }

  /** `read_log(numlines)`: the last log entries, newest first. */
  async readLog(numlines = 20): Promise<string[] | ReturnDictionary> {
    return this.guard('read_log', () => this.resolve(InformationApi).readLog(numlines));
  }

  /** `get_setting(setting_name)`: one setting by `[handyrep]` key or full path; never a password. */
  async getSetting(settingName: string | string[]): Promise<SettingDictionary> {
    return this.guard('get_setting', () => this.resolve(InformationApi).getSetting(settingName));
  }

  /** `set_verbose(verbose)`: debug logging on or off. */
  async setVerbose(verbose = true): Promise<ReturnDictionary> {
    return this.guard('set_verbose', () => this.resolve(InformationApi).setVerbose(verbose));
  }

  // ---- Availability API ----

  /** `failover_check(verify)`: checks everything and fails over when the rules say so (not in the web API). */
  async failoverCheck(verify = false): Promise<FailoverCheckResult | ReturnDictionary> {
    return this.guard('failover_check', () => this.resolve(FailoverCheck).run(verify === true));
  }

  /** `poll_master()`. */
  async pollMaster(): Promise<ReturnDictionary> {
    return this.guard('poll_master', () => this.resolve(AvailabilityService).pollMaster());
  }

  /** `poll(servername)`. */
  async poll(servername: string): Promise<ReturnDictionary> {
    return this.guard('poll', () => this.resolve(AvailabilityService).poll(servername));
  }

  /** `poll_all()`: with `failover_ok`. */
  async pollAll(): Promise<ReturnDictionary> {
    return this.guard('poll_all', () => this.resolve(AvailabilityService).pollAll());
  }

  /** `verify_master()`: with `ssh`/`psql` error fields. */
  async verifyMaster(): Promise<VerifyResult | ReturnDictionary> {
    return this.guard('verify_master', () => this.resolve(AvailabilityService).verifyMaster());
  }

  /** `verify_replica(replicaname)`. */
  async verifyReplica(replicaname: string): Promise<VerifyResult | ReturnDictionary> {
    return this.guard('verify_replica', () => this.resolve(AvailabilityService).verifyReplica(replicaname));
  }

  /** `verify_server(servername)`. */
  async verifyServer(servername: string): Promise<VerifyResult | ReturnDictionary> {
    return this.guard('verify_server', () => this.resolve(AvailabilityService).verifyServer(servername));
  }

  /** `verify_all()`: with `failover_ok` and per-server `servers`. */
  async verifyAll(): Promise<ReturnDictionary> {
    return this.guard('verify_all', () => this.resolve(AvailabilityService).verifyAll());
  }

  // ---- Action API ----

  /** `init_handyrep_db()`. */
  async initHandyrepDb(): Promise<ReturnDictionary> {
    return this.guard('init_handyrep_db', () => this.resolve(ActionApi).initHandyrepDb());
  }

  /**
   * `reload_conf(config_file)`: loads the (new) config; when it is invalid
   * nothing changes. Server definitions only change with override_server_file.
   */
  async reloadConf(configFile: string | null = null): Promise<ReturnDictionary> {
    return this.guard('reload_conf', async () => {
      const file = configFile ?? this.runtime.loaded.file;
      const old = this.runtime;
      const lock = old.container.resolve(ActionLock);
      return lock.run('reload_conf', async () => {
        let next: Runtime;
        try {
          next = await buildRuntime(file, this.options, { saved: old.registry.snapshot(old.stateStore.currentGeneration()), ring: old.logger.ring, stateLock: old.stateLock });
        } catch (err) {
          // Another file than the running one may be anything (a caller's mistake, or worse): say where, not what it holds.
          const why = resolvePath(file) === old.loaded.file ? errorMessage(err) : problemPlaces(err, file);
          return fail(`configuration not reloaded, nothing changed: ${why}`);
        }
        const monitoring = this.monitor?.isRunning() === true;
        if (this.monitor) await this.stopMonitor();
        this.runtime = next;
        await closeRuntime(old);
        if (monitoring) this.startMonitor();
        next.logger.info(`configuration reloaded from ${next.loaded.file}`, { component: 'core' });
        return success(`configuration reloaded from ${next.loaded.file}`);
      });
    });
  }

  /** `shutdown(servername, force)`: the master only with force = true. */
  async shutdown(servername: string, force = false): Promise<ReturnDictionary> {
    return this.guard('shutdown', () => this.resolve(ActionApi).shutdown(servername, force));
  }

  /** `startup(servername)`. */
  async startup(servername: string): Promise<ReturnDictionary> {
    return this.guard('startup', () => this.resolve(ActionApi).startup(servername));
  }

  /** `restart(servername)`. */
  async restart(servername: string): Promise<ReturnDictionary> {
    return this.guard('restart', () => this.resolve(ActionApi).restart(servername));
  }

  /** `promote(newmaster)`. */
  async promote(newmaster: string): Promise<ReturnDictionary> {
    return this.guard('promote', () => this.resolve(ActionApi).promote(newmaster));
  }

  /**
   * `manual_failover(newmaster, remaster)`; `ignoreLagLimit` explicitly allows a lagging named replica.
   * With `at` (ISO-8601 with an offset or Z) the switchover is checked now and scheduled for that time (see cancelSwitchover).
   */
  async manualFailover(newmaster: string | null = null, remaster: boolean | null = null, ignoreLagLimit = false, at: string | null = null): Promise<FailoverResult | ScheduleResult | ReturnDictionary> {
    return this.guard('manual_failover', () =>
      at === null || at === undefined
        ? this.resolve(ActionApi).manualFailover(newmaster, remaster, ignoreLagLimit)
        : this.resolve(SwitchoverScheduler).schedule(newmaster, remaster, ignoreLagLimit, at),
    );
  }

  /** `cancel_switchover()`: removes the scheduled switchover; FAIL when none is pending. */
  async cancelSwitchover(): Promise<ScheduleResult | ReturnDictionary> {
    return this.guard('cancel_switchover', () => this.resolve(SwitchoverScheduler).cancel());
  }

  /** `clone(replicaserver, reclone, clonefrom, force)`: `force` lets a reclone empty a pgdata without PG_VERSION. */
  async clone(replicaserver: string, reclone = false, clonefrom: string | null = null, force = false): Promise<ReturnDictionary> {
    return this.guard('clone', () => this.resolve(ActionApi).clone(replicaserver, reclone, clonefrom, force));
  }

  /** `enable(servername)`. */
  async enable(servername: string): Promise<ReturnDictionary> {
    return this.guard('enable', () => this.resolve(ActionApi).enable(servername));
  }

  /** `disable(servername, force)`: the enabled master only with force = true. */
  async disable(servername: string, force = false): Promise<ReturnDictionary> {
    return this.guard('disable', () => this.resolve(ActionApi).disable(servername, force));
  }

  /** `remove(servername)`. */
  async remove(servername: string): Promise<ReturnDictionary> {
    return this.guard('remove', () => this.resolve(ActionApi).remove(servername));
  }

  /** `alter_server_def(servername, serverprops)`: returns `definition`. */
  async alterServerDef(servername: string, serverprops: Record<string, unknown>): Promise<ReturnDictionary> {
    return this.guard('alter_server_def', () => this.resolve(ActionApi).alterServerDef(servername, serverprops));
  }

  /** `add_server(servername, serverprops)`: returns `definition`. */
  async addServer(servername: string, serverprops: Record<string, unknown>): Promise<ReturnDictionary> {
    return this.guard('add_server', () => this.resolve(ActionApi).addServer(servername, serverprops));
  }

  /** `connection_proxy_init()`. */
  async connectionProxyInit(): Promise<ReturnDictionary> {
    return this.guard('connection_proxy_init', () => this.resolve(ActionApi).connectionProxyInit());
  }

  /** `cleanup_archive()`. */
  async cleanupArchive(): Promise<ReturnDictionary> {
    return this.guard('cleanup_archive', () => this.resolve(ActionApi).cleanupArchive());
  }

  /** `start_archiving()`. */
  async startArchiving(): Promise<ReturnDictionary> {
    return this.guard('start_archiving', () => this.resolve(ActionApi).startArchiving());
  }

  /** `stop_archiving()`. */
  async stopArchiving(): Promise<ReturnDictionary> {
    return this.guard('stop_archiving', () => this.resolve(ActionApi).stopArchiving());
  }

  /** `remaster(replica, newmaster)` (from the original HandyRep). */
  async remaster(replica: string, newmaster: string | null = null): Promise<RemasterResult | ReturnDictionary> {
    return this.guard('remaster', () => this.resolve(ActionApi).remaster(replica, newmaster));
  }

  /** `rejoin(servername, reclone)`: a disabled former master back as a replica (pg_rewind, reclone as the fallback). */
  async rejoin(servername: string, reclone = true): Promise<ReturnDictionary> {
    return this.guard('rejoin', () => this.resolve(ActionApi).rejoin(servername, reclone));
  }

  /**
   * `restart_cluster(pending_only, switchover)`: a rolling restart (docs/rolling-restart.md), replicas
   * one at a time, then the master in place or by a planned switchover; stops at the first failure.
   */
  async restartCluster(pendingOnly = false, switchover = false): Promise<RollingRestartResult | ReturnDictionary> {
    return this.guard('restart_cluster', () => this.resolve(RollingRestart).restartCluster(pendingOnly, switchover));
  }

  /** `pause()`: maintenance mode; checks continue, no automatic action. */
  async pause(): Promise<ReturnDictionary> {
    return this.guard('pause', () => this.resolve(ActionApi).pause());
  }

  /** `resume()`. */
  async resume(): Promise<ReturnDictionary> {
    return this.guard('resume', () => this.resolve(ActionApi).resume());
  }

  /** Whether maintenance mode is on, and since when (ms since the epoch). */
  pausedSince(): number | undefined {
    return this.resolve(MaintenanceMode).since();
  }

  // ---- Monitoring ----

  /**
   * Starts the periodic failover_check loop with event-driven detection (a
   * held connection to the master). The bundled daemon uses this.
   */
  startMonitor(): Monitor {
    if (this.monitor?.isRunning()) return this.monitor;
    const { runtime } = this;
    const settings = runtime.loaded.config;
    let monitor: Monitor | undefined;
    const watcher = new MasterWatcher(
      runtime.registry.view(),
      runtime.container.resolve(Tokens.secrets),
      { user: settings.handyrep.postgres_superuser, database: settings.handyrep.handyrep_db, connectTimeoutMs: settings.handyrep.connect_timeout * 1000, tls: postgresTls(settings) },
      runtime.logger.child({ component: 'watcher' }),
      (master, lostAt) => monitor?.masterLost(master, lostAt),
    );
    monitor = new Monitor(
      this.resolve(FailoverCheck),
      watcher,
      runtime.registry,
      this.resolve(AlertService),
      runtime.logger.child({ component: 'monitor' }),
      runtime.clock,
      () => ({ pollInterval: this.runtime.loaded.config.failover.poll_interval, verifyFrequency: this.runtime.loaded.config.failover.verify_frequency }),
      this.resolve(SwitchoverScheduler),
    );
    monitor.start();
    this.monitor = monitor;
    return monitor;
  }

  /** Stops the monitor loop, waiting for the check in progress. */
  async stopMonitor(): Promise<void> {
    const monitor = this.monitor;
    this.monitor = undefined;
    if (monitor) await monitor.stop();
  }

  /**
   * A loaded plugin instance: the one named `name` in the config, or the
   * cluster-wide one of `kind`. For diagnostics, integration tests and
   * embedding; failover code goes through the API methods.
   */
  pluginInstance<K extends PluginKind>(kind: K, name?: string): PluginKindMap[K] | undefined {
    return name === undefined ? this.runtime.plugins.active(kind) : this.runtime.plugins.instanceOf(kind, name);
  }

  /** Figures for metrics: last poll durations, recent replica lag, failovers by outcome, the master's replication slots. */
  observations(): {
    pollDurationsMs: Map<string, number>;
    replicaLagMb: Map<string, number>;
    failovers: { SUCCESS: number; FAIL: number };
    monitorRunning: boolean;
    replicationSlots: SlotStatus[];
  } {
    const availability = this.resolve(AvailabilityService);
    return {
      pollDurationsMs: availability.pollDurations(),
      replicaLagMb: availability.recentLag(),
      failovers: this.resolve(FailoverExecutor).outcomeCounts(),
      monitorRunning: this.monitor?.isRunning() === true,
      replicationSlots: this.resolve(ReplicationSlots).status(),
    };
  }

  /** The configuration in use (validated, defaults applied) with `[passwords]` left out. */
  settingsWithoutSecrets(): Omit<Runtime['loaded']['config'], 'passwords'> {
    const { passwords: _secret, ...rest } = this.runtime.loaded.config;
    return structuredClone(rest);
  }

  /** A logger for the web layer, tagged `web`. */
  webLogger(): Logger {
    return this.runtime.logger.child({ component: 'web' });
  }

  /** The authentication plugin the web API must use, if one is configured. */
  authenticationPlugin(): PluginKindMap['authentication'] | undefined {
    return this.runtime.plugins.cluster('authentication');
  }

  /** Installed plugins and their packages. */
  describePlugins(): ReturnType<Runtime['plugins']['describe']> {
    return this.runtime.plugins.describe();
  }

  /**
   * What this process tells a second process that is refused the server file
   * (HR_STATE_LOCKED): the daemon records its web API URL here once it listens.
   */
  describeLockHolder(holder: LockHolderRole): void {
    this.runtime.stateLock.lock.describe(holder);
  }

  /** Stops monitoring, saves state, closes plugins, connections and the log, and releases the server file's lock. */
  async close(): Promise<void> {
    await this.stopMonitor();
    this.statusJson.close();
    this.runtime.logger.info('HandyRep closed', { component: 'core' });
    await closeRuntime(this.runtime);
  }
}
