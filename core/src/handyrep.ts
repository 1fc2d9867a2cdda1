import type { ClusterStatusName, Clock, PluginKind, PluginKindMap, RemoteShell, ReturnDictionary, ServerDefinition, SqlClient, StatusFields } from '@handyrep/plugin-sdk';
import type { DependencyContainer } from 'tsyringe';
import { asReturnDictionary } from './api/return-boundary.js';
import { InformationApi } from './api/information-api.js';
import type { SettingDictionary, StatusDictionary } from './api/information-api.js';
import { configSecrets } from './capabilities/config-secrets.js';
import { configSettingsView } from './capabilities/config-settings-view.js';
import { createRemoteCapabilities } from './capabilities/remote-capabilities.js';
import { systemClock } from './capabilities/system-clock.js';
import { loadConfig } from './config/load-config.js';
import type { LoadedConfig, PluginReference } from './config/load-config.js';
import { SERVER_PLUGIN_KEYS } from './config/core-schema.js';
import { createInstanceContainer } from './di/container.js';
import { createLogger } from './logging/create-logger.js';
import type { CoreLogger } from './logging/create-logger.js';
import { PluginHost } from './plugins/plugin-host.js';
import { ServerRegistry } from './registry/server-registry.js';
import { readStateFile } from './registry/state-file.js';
import type { SavedState } from './registry/state-file.js';
import { StateStore } from './state/state-store.js';
import { serverPropsValidator } from './config/server-props-validator.js';

/** Options of HandyRep.open, mostly for tests and embedding. */
export interface OpenOptions {
  /** Where log lines go when `[handyrep] log_file` is empty (default: standard output). */
  logDestination?: NodeJS.WritableStream;
  /** Replacements for the real SSH shell, SQL client or clock. */
  capabilities?: { shell?: RemoteShell; sql?: SqlClient; clock?: Clock };
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
 * HandyRep as a library: open it on a config file, then call the spec's
 * functions as camelCase methods (docs/library-api.md has the 1:1 table).
 * Return values keep the spec's dictionaries and keys.
 */
export class HandyRep {
  private constructor(
    private readonly container: DependencyContainer,
    private readonly loaded: LoadedConfig,
    private readonly logger: CoreLogger,
    private readonly stateStore: StateStore,
    private readonly plugins: PluginHost,
    private readonly closers: (() => Promise<void> | void)[],
  ) {}

  /**
   * Opens HandyRep on `configFile` (default `handyrep.conf` in the working
   * directory). Rejects with a ConfigError naming the file when it is missing,
   * malformed or invalid, or when a plugin cannot be loaded or created.
   */
  static async open(configFile = 'handyrep.conf', options: OpenOptions = {}): Promise<HandyRep> {
    let loaded = await loadConfig(configFile);
    const saved = await readStateFile(loaded.config.handyrep.server_file);
    const extra = savedStateReferences(saved).filter((reference) => !loaded.plugins.has(reference.name));
    if (extra.length > 0) loaded = await loadConfig(configFile, { extraReferences: extra });
    const { config } = loaded;

    const logger = createLogger({
      logFile: config.handyrep.log_file,
      verbose: config.handyrep.log_verbose,
      secrets: () => Object.values(config.passwords),
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    const closers: (() => Promise<void> | void)[] = [];
    try {
      const clock = options.capabilities?.clock ?? systemClock;
      const registry = new ServerRegistry(
        {
          serverDefaults: config.server_defaults,
          configServers: config.servers,
          saved,
          overrideServerFile: config.handyrep.override_server_file,
        },
        { validateProps: serverPropsValidator([...loaded.plugins.values()].map((p) => p.declaration)), now: () => clock.now() },
      );
      for (const warning of registry.warnings) logger.warn(warning, { component: 'registry' });

      const secrets = configSecrets(() => config.passwords);
      const settings = configSettingsView(() => config);
      const servers = registry.view();
      let shell = options.capabilities?.shell;
      let sql = options.capabilities?.sql;
      if (!shell || !sql) {
        const remote = createRemoteCapabilities(config, servers, secrets, logger.child({ component: 'remote' }));
        shell ??= remote.shell;
        sql ??= remote.sql;
        closers.push(() => remote.shell.close());
      }

      const stateStore = new StateStore(registry, config.handyrep.server_file, saved?.generation ?? 0, logger.child({ component: 'state' }));
      stateStore.attach();
      // The first start writes the server file, which is canonical from then on.
      if (!saved) await stateStore.requestSave();

      const plugins = new PluginHost(
        loaded,
        { servers, settings, shell, sql, secrets, clock },
        (name) => logger.child({ plugin: name }),
      );
      await plugins.createAll();

      const container = createInstanceContainer({
        config: loaded,
        logger,
        registry,
        stateStore,
        plugins,
        clock,
        shell,
        sql,
        secrets,
        settings,
      });
      logger.info(`HandyRep opened on ${loaded.file}`, { component: 'core', servers: registry.list().length });
      return new HandyRep(container, loaded, logger, stateStore, plugins, closers);
    } catch (err) {
      for (const close of closers) await close();
      logger.close();
      throw err;
    }
  }

  private get information(): InformationApi {
    return this.container.resolve(InformationApi);
  }

  /** The config file this instance was opened on. */
  get configFile(): string {
    return this.loaded.file;
  }

  /** `get_status(check_type)`: cluster and server status. */
  async getStatus(checkType: 'cached' | 'poll' | 'verify' = 'cached'): Promise<StatusDictionary | ReturnDictionary> {
    return asReturnDictionary(this.logger, 'get_status', () => this.information.getStatus(checkType));
  }

  /** `get_cluster_status(verify)`: status, status_no, status_ts, status_message of the cluster. */
  async getClusterStatus(verify = false): Promise<StatusFields<ClusterStatusName> | ReturnDictionary> {
    return asReturnDictionary(this.logger, 'get_cluster_status', () => this.information.getClusterStatus(verify));
  }

  /** `get_master_name()`: the enabled master's name, or null. */
  getMasterName(): string | null {
    return this.information.getMasterName();
  }

  /** `get_server_info(servername, verify)`: `{ name: definition }` for one server or all. */
  async getServerInfo(servername: string | null = null, verify = false): Promise<Record<string, ServerDefinition> | ReturnDictionary> {
    return asReturnDictionary(this.logger, 'get_server_info', () => this.information.getServerInfo(servername, verify));
  }

  /** `read_log(numlines)`: the last log entries, newest first. */
  async readLog(numlines = 20): Promise<string[] | ReturnDictionary> {
    return asReturnDictionary(this.logger, 'read_log', () => this.information.readLog(numlines));
  }

  /** `get_setting(setting_name)`: one setting by `[handyrep]` key or full path; never a password. */
  async getSetting(settingName: string | string[]): Promise<SettingDictionary> {
    return asReturnDictionary(this.logger, 'get_setting', () => this.information.getSetting(settingName));
  }

  /** `set_verbose(verbose)`: debug logging on or off. */
  async setVerbose(verbose = true): Promise<ReturnDictionary> {
    return asReturnDictionary(this.logger, 'set_verbose', () => this.information.setVerbose(verbose));
  }

  /**
   * A loaded plugin instance: the one named `name` in the config, or the
   * cluster-wide one of `kind`. For diagnostics, integration tests and
   * embedding; failover code goes through the API methods.
   */
  pluginInstance<K extends PluginKind>(kind: K, name?: string): PluginKindMap[K] | undefined {
    return name === undefined ? this.plugins.active(kind) : this.plugins.instanceOf(kind, name);
  }

  /** Installed plugins and their packages. */
  describePlugins(): ReturnType<PluginHost['describe']> {
    return this.plugins.describe();
  }

  /** Saves state, closes plugins, connections and the log. */
  async close(): Promise<void> {
    await this.stateStore.close();
    const errors = await this.plugins.closeAll();
    for (const error of errors) this.logger.warn(`closing plugin ${error}`, { component: 'core' });
    for (const close of this.closers) await close();
    this.logger.info('HandyRep closed', { component: 'core' });
    this.logger.close();
  }
}
