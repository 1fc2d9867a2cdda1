import 'reflect-metadata';
import type { Clock, RemoteShell, ServerView, SqlClient } from '@handyrep/plugin-sdk';
import type { DependencyContainer } from 'tsyringe';
import { ActionLock } from './actions/action-lock.js';
import { AlertService } from './alerts/alert-service.js';
import { configSecrets } from './capabilities/config-secrets.js';
import { configSettingsView } from './capabilities/config-settings-view.js';
import { createRemoteCapabilities } from './capabilities/remote-capabilities.js';
import { systemClock } from './capabilities/system-clock.js';
import { SERVER_PLUGIN_KEYS } from './config/core-schema.js';
import { loadConfig } from './config/load-config.js';
import type { LoadedConfig, PluginReference } from './config/load-config.js';
import { serverPropsValidator } from './config/server-props-validator.js';
import { createInstanceContainer } from './di/container.js';
import { createLogger } from './logging/create-logger.js';
import type { CoreLogger, LogDestination } from './logging/create-logger.js';
import type { LogRing } from './logging/log-ring.js';
import { PluginHost } from './plugins/plugin-host.js';
import { ServerRegistry } from './registry/server-registry.js';
import { readStateFile } from './registry/state-file.js';
import type { SavedState } from './registry/state-file.js';
import { StateStore } from './state/state-store.js';
import { SharedStateSync } from './state/shared-state-sync.js';
import { ActingGuard } from './cluster/acting-guard.js';
import type { SharedStateAccess } from './di/tokens.js';
import { DbStateMirror, mirrorLocation, readMirroredState } from './state/db-state-mirror.js';
import { StateFileLock, defaultLockHolderRole, stateLockPath } from './state/state-file-lock.js';
import type { LockHolderRole, StateLockLease } from './state/state-file-lock.js';

/** Options of HandyRep.open, mostly for tests and embedding. */
export interface OpenOptions {
  /** Where log lines go when `[handyrep] log_file` is empty (default: standard output). */
  logDestination?: LogDestination;
  /** Replacements for the real SSH shell, SQL client or clock. */
  capabilities?: { shell?: RemoteShell; sql?: SqlClient; clock?: Clock };
  /**
   * How this process names itself in the server file's lock, for a second
   * process that is refused (default: a library process and its command line).
   */
  lockHolder?: LockHolderRole;
}

/** Everything one configuration brings to life; replaced whole by reload_conf. */
export interface Runtime {
  loaded: LoadedConfig;
  logger: CoreLogger;
  registry: ServerRegistry;
  stateStore: StateStore;
  plugins: PluginHost;
  container: DependencyContainer;
  clock: Clock;
  /** Releases connections the runtime opened (SSH), in order. */
  closers: (() => Promise<void> | void)[];
  /** This runtime's hold on the server file's lock (one process per state file); closeRuntime releases it. */
  stateLock: StateLockLease;
}

/**
 * Locks the server file for this process before anything reads or writes it.
 * On reload, the same file keeps the running runtime's lock (a second lease);
 * another file is locked before the switch, with the same role.
 */
async function lockStateFile(serverFile: string, options: OpenOptions, running: StateLockLease | undefined): Promise<StateLockLease> {
  if (running?.lock.held && running.lock.path === stateLockPath(serverFile)) return running.lock.lease();
  return StateFileLock.acquire(serverFile, running?.lock.role() ?? options.lockHolder ?? defaultLockHolderRole());
}

/** Plugin names the saved state uses that the config file does not, so they get loaded too. */
function savedStateReferences(saved: SavedState | undefined): PluginReference[] {
  if (!saved) return [];
  const references: PluginReference[] = [];
  for (const [name, server] of Object.entries(saved.servers)) {
    for (const [key, kind] of Object.entries(SERVER_PLUGIN_KEYS)) {
      const value = server.definition[key];
      if (typeof value === 'string' && value !== '') references.push({ section: `servers.${name}`, key, name: value, kind });
    }
  }
  return references;
}

/**
 * Loads a config and builds a runtime on it. `saved` is the state to start
 * from: read from the server file when undefined (open), the running state
 * when reloading. Throws ConfigError before anything is started when the
 * config or a plugin is not usable, and StateLockedError (HR_STATE_LOCKED),
 * before reading or writing anything, when another process has the server file.
 */
export async function buildRuntime(
  configFile: string,
  options: OpenOptions,
  carried?: { saved: SavedState; ring: LogRing; stateLock: StateLockLease },
): Promise<Runtime> {
  let loaded = await loadConfig(configFile);
  const stateLock = await lockStateFile(loaded.config.handyrep.server_file, options, carried?.stateLock);
  let openedLogger: CoreLogger | undefined;
  const closers: (() => Promise<void> | void)[] = [];
  try {
    const saved = carried?.saved ?? (await readStateFile(loaded.config.handyrep.server_file));
    const extra = savedStateReferences(saved).filter((reference) => !loaded.plugins.has(reference.name));
    if (extra.length > 0) loaded = await loadConfig(configFile, { extraReferences: extra });
    const { config } = loaded;

    const logger = createLogger({
      logFile: config.handyrep.log_file,
      verbose: config.handyrep.log_verbose,
      secrets: () => Object.values(config.passwords),
      ...(options.logDestination ? { destination: options.logDestination } : {}),
      ...(carried ? { ring: carried.ring } : {}),
    });
    openedLogger = logger;
    for (const warning of loaded.warnings ?? []) logger.warn(warning, { component: 'config' });
    const clock = options.capabilities?.clock ?? systemClock;
    const makeRegistry = (state: SavedState | undefined): ServerRegistry =>
      new ServerRegistry(
        {
          serverDefaults: config.server_defaults,
          configServers: config.servers,
          saved: state,
          overrideServerFile: config.handyrep.override_server_file,
        },
        { validateProps: serverPropsValidator([...loaded.plugins.values()].map((p) => p.declaration)), now: () => clock.now() },
      );
    let registry = makeRegistry(saved);
    const secrets = configSecrets(() => config.passwords);
    const settings = configSettingsView(() => config);
    let shell = options.capabilities?.shell;
    let sql = options.capabilities?.sql;
    // The SSH shell and SQL client read server definitions through this view, so it follows the registry we settle on.
    const servers: ServerView = {
      get: (name) => registry.view().get(name),
      has: (name) => registry.view().has(name),
      list: () => registry.view().list(),
      master: () => registry.view().master(),
      byRole: (...roles) => registry.view().byRole(...roles),
    };
    if (!shell || !sql) {
      const remote = createRemoteCapabilities(config, servers, secrets, logger.child({ component: 'remote' }));
      shell ??= remote.shell;
      sql ??= remote.sql;
      closers.push(() => remote.shell.close());
    }

    // init_handyrep_db keeps a copy of the state on the master: when it is newer than the file, it wins.
    let generation = saved?.generation ?? 0;
    const location = carried ? undefined : mirrorLocation(registry);
    const master = registry.master();
    if (location && master) {
      const mirrored = await readMirroredState(sql, master.name, location, {
        connectTimeoutMs: config.handyrep.connect_timeout * 1000,
        statementTimeoutMs: config.handyrep.statement_timeout * 1000,
      }, logger.child({ component: 'state' }));
      if (mirrored && mirrored.generation > generation) {
        logger.warn(`the state in ${location.schema}.${location.table} on ${master.name} (generation ${mirrored.generation}) is newer than ${config.handyrep.server_file} (generation ${generation}); using it`, { component: 'state' });
        registry = makeRegistry(mirrored);
        generation = mirrored.generation;
      }
    }
    for (const warning of registry.warnings) logger.warn(warning, { component: 'registry' });

    const timeouts = { connectTimeoutMs: config.handyrep.connect_timeout * 1000, statementTimeoutMs: config.handyrep.statement_timeout * 1000 };
    const mirror = new DbStateMirror(registry, sql, timeouts, logger.child({ component: 'state' }));
    closers.push(() => mirror.flush());
    let sharedSync: SharedStateSync | undefined;
    const stateStore = new StateStore(registry, config.handyrep.server_file, generation, logger.child({ component: 'state' }), (state) => {
      mirror.offer(state);
      sharedSync?.offer(state);
    });
    stateStore.attach();
    // The first start writes the server file, which is canonical from then on.
    if (!saved || carried) await stateStore.requestSave();

    const plugins = new PluginHost(loaded, { servers, settings, shell, sql, secrets, clock }, (name) => logger.child({ plugin: name }));
    await plugins.createAll();

    const store = plugins.cluster('hr_master')?.sharedState;
    if (store) {
      const sync = new SharedStateSync(store, registry, logger.child({ component: 'state' }));
      sharedSync = sync;
      closers.push(() => sync.flush());
      stateStore.advanceTo(await sync.adoptNewer(stateStore.currentGeneration()));
    }
    const sharedState: SharedStateAccess = {
      refresh: async () => {
        if (sharedSync) stateStore.advanceTo(await sharedSync.adoptNewer(stateStore.currentGeneration()));
      },
    };
    const container = createInstanceContainer({ config: loaded, logger, registry, stateStore, plugins, clock, shell, sql, secrets, settings, sharedState });
    const guard = container.resolve(ActingGuard);
    container.register(ActionLock, { useValue: new ActionLock(clock, (action) => guard.require(action)) });
    return { loaded, logger, registry, stateStore, plugins, container, clock, closers, stateLock };
  } catch (err) {
    for (const close of closers) await close();
    if (!carried) openedLogger?.close();
    stateLock.release();
    throw err;
  }
}

/** How long close() waits for alerts still being delivered. */
const ALERT_DRAIN_MS = 5000;

/** Closes a runtime: waits for state writes, closes plugins and connections; the logger stays open when `keepLogger`. */
export async function closeRuntime(runtime: Runtime, keepLogger = false): Promise<void> {
  try {
    // Alerts sent alongside a failover get a bounded chance to reach their channel before the plugins close.
    await runtime.container.resolve(AlertService).drain(ALERT_DRAIN_MS);
    await runtime.stateStore.close();
    const errors = await runtime.plugins.closeAll();
    for (const error of errors) runtime.logger.warn(`closing plugin ${error}`, { component: 'core' });
    for (const close of runtime.closers) await close();
  } finally {
    // Last, after the final state write: until here no other process may take the file over.
    runtime.stateLock.release();
  }
  if (!keepLogger) runtime.logger.close();
}
