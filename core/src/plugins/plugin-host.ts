import {
  ConfigError,
  ErrorCodes,
  errorMessage,
  HandyRepError,
  missingKindMethods,
  PluginLoadError,
} from '@handyrep/plugin-sdk';
import type {
  ClusterKind,
  ConfigProblem,
  PerServerKind,
  PluginContext,
  PluginDirectory,
  PluginKind,
  PluginKindMap,
} from '@handyrep/plugin-sdk';
import type { LoadedConfig } from '../config/load-config.js';
import { CLUSTER_PLUGIN_KEYS, SERVER_PLUGIN_KEYS } from '../config/core-schema.js';
import { pluginDeadline, withDeadlines } from './plugin-deadlines.js';
import type { LoadedPlugin } from './plugin-loader.js';

/** Everything a plugin context is made of except its name, config and logger. */
export type SharedCapabilities = Omit<PluginContext, 'name' | 'config' | 'logger' | 'plugins'>;

/** Makes the logger a plugin gets (tagged with its name). */
export type PluginLoggerFactory = (pluginName: string) => PluginContext['logger'];

const PER_SERVER_KEY: Record<PerServerKind, keyof typeof SERVER_PLUGIN_KEYS> = {
  control: 'restart_method',
  promotion: 'promotion_method',
  clone: 'clone_method',
};

type ClusterKeyTable = typeof CLUSTER_PLUGIN_KEYS;
/** Every cluster-wide kind has exactly one key in CLUSTER_PLUGIN_KEYS (a compile error here when one is missing). */
const EVERY_CLUSTER_KIND_HAS_A_KEY: Exclude<ClusterKind, ClusterKeyTable[keyof ClusterKeyTable]> extends never ? true : never = true;
void EVERY_CLUSTER_KIND_HAS_A_KEY;

/** Where each cluster-wide kind is configured: CLUSTER_PLUGIN_KEYS read the other way round. */
export const CLUSTER_KIND_KEYS: Readonly<Record<ClusterKind, { section: string; key: string }>> = Object.freeze(
  Object.fromEntries(
    Object.entries(CLUSTER_PLUGIN_KEYS).map(([path, kind]) => {
      const [section = '', key = ''] = path.split('.');
      return [kind, Object.freeze({ section, key })];
    }),
  ) as Record<ClusterKind, { section: string; key: string }>,
);

function isClusterKind(kind: PluginKind): kind is ClusterKind {
  return Object.hasOwn(CLUSTER_KIND_KEYS, kind);
}

interface Entry {
  loaded: LoadedPlugin;
  /** The plugin's own instance (closed at the end). */
  instance: object;
  /** What lookups hand out: the instance with its kind's methods bounded by their deadline; made once. */
  bounded?: object;
}

/**
 * Creates the loaded plugins once, and finds the instance for a config key
 * or a server. One instance per declared plugin, shared by every key naming it.
 */
export class PluginHost implements PluginDirectory {
  private readonly instances = new Map<string, Entry>();

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly capabilities: SharedCapabilities,
    private readonly loggerFor: PluginLoggerFactory,
  ) {}

  /** Creates every plugin; all failures are thrown together as one ConfigError. */
  async createAll(): Promise<void> {
    const problems: ConfigProblem[] = [];
    for (const [configName, loaded] of this.loaded.plugins) {
      const name = loaded.declaration.name;
      try {
        const instance = await this.create(loaded);
        this.instances.set(configName, { loaded, instance });
      } catch (err) {
        problems.push({
          section: `plugins.${name}`,
          key: '',
          message: errorMessage(err),
          code: err instanceof HandyRepError ? err.code : ErrorCodes.PLUGIN_FACTORY_FAILED,
        });
      }
    }
    if (problems.length > 0) {
      await this.closeAll();
      throw new ConfigError(
        problems.length === 1 && problems[0]?.code ? problems[0].code : ErrorCodes.CONFIG_INVALID,
        `configuration file ${this.loaded.file}: ${problems.length} plugin${problems.length === 1 ? '' : 's'} could not be created:\n` +
          problems.map((p) => `  [${p.section}]: ${p.message}`).join('\n'),
        problems,
        this.loaded.file,
      );
    }
  }

  private async create(loaded: LoadedPlugin): Promise<object> {
    const { declaration } = loaded;
    const context: PluginContext = {
      ...this.capabilities,
      name: declaration.name,
      config: Object.freeze({ ...(this.loaded.config.plugins[declaration.name] ?? {}) }),
      logger: this.loggerFor(declaration.name),
      plugins: this,
    };
    let instance: unknown;
    try {
      instance = await declaration.create(context);
    } catch (err) {
      throw new PluginLoadError(
        ErrorCodes.PLUGIN_FACTORY_FAILED,
        loaded.configName,
        loaded.packageName,
        `plugin '${loaded.configName}' (${loaded.packageName}) failed to start: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    const missing = missingKindMethods(declaration.kind, instance);
    if (missing.length > 0) {
      throw new PluginLoadError(
        ErrorCodes.PLUGIN_FACTORY_FAILED,
        loaded.configName,
        loaded.packageName,
        `plugin '${loaded.configName}' (${loaded.packageName}) created an instance without the ${declaration.kind} method(s) ${missing.join(', ')}`,
      );
    }
    return instance as object;
  }

  /**
   * The cluster-wide plugin of `kind`, the one its config key names
   * (`poll` → `[failover] poll_method`, see CLUSTER_PLUGIN_KEYS), or
   * undefined when that key is empty.
   */
  cluster<K extends ClusterKind>(kind: K): PluginKindMap[K] | undefined {
    const { section, key } = CLUSTER_KIND_KEYS[kind];
    return this.byKey(kind, section, key);
  }

  /** The instance configured under a cluster-wide key, e.g. `failover.poll_method`. Prefer `cluster(kind)`. */
  byKey<K extends PluginKind>(kind: K, section: string, key: string): PluginKindMap[K] | undefined {
    const reference = this.loaded.references.find((ref) => ref.section === section && ref.key === key);
    return reference ? this.instanceOf(kind, reference.name) : undefined;
  }

  /**
   * The instance named `name` (as in the config), checked to be of `kind`.
   * Each call of its kind's methods is bounded by the kind's deadline
   * (plugin_timeout, promotion_timeout or clone_timeout): past it, the call
   * rejects with HR_TIMEOUT; the plugin's own work may go on.
   */
  instanceOf<K extends PluginKind>(kind: K, name: string): PluginKindMap[K] {
    const entry = this.instances.get(name);
    if (!entry) {
      throw new HandyRepError(ErrorCodes.PLUGIN_NOT_FOUND, `plugin '${name}' is not loaded; name it in the configuration and reload`);
    }
    if (entry.loaded.declaration.kind !== kind) {
      throw new HandyRepError(ErrorCodes.PLUGIN_WRONG_KIND, `plugin '${name}' is a '${entry.loaded.declaration.kind}' plugin, not '${kind}'`);
    }
    entry.bounded ??= withDeadlines(entry.instance, kind, name, pluginDeadline(kind, this.loaded.config), this.loggerFor(entry.loaded.declaration.name));
    return entry.bounded as PluginKindMap[K];
  }

  /** True when a plugin of that config name is loaded. */
  isLoaded(name: string): boolean {
    return this.instances.has(name);
  }

  /** Loaded plugins with their packages, for status pages and docs. */
  describe(): { name: string; kind: PluginKind; package: string; version: string | undefined }[] {
    return [...this.instances.entries()].map(([name, { loaded }]) => ({
      name,
      kind: loaded.declaration.kind,
      package: loaded.packageName,
      version: loaded.packageVersion,
    }));
  }

  forServer<K extends PerServerKind>(kind: K, server: string): PluginKindMap[K] {
    const definition = this.capabilities.servers.get(server);
    const name = definition[PER_SERVER_KEY[kind]];
    if (typeof name !== 'string' || name === '') {
      throw new HandyRepError(
        ErrorCodes.NOT_SUPPORTED,
        `server '${server}' has no ${PER_SERVER_KEY[kind]} configured`,
      );
    }
    return this.instanceOf(kind, name);
  }

  /** `cluster(kind)` for any kind: undefined for the per-server kinds. */
  active<K extends PluginKind>(kind: K): PluginKindMap[K] | undefined {
    return isClusterKind(kind) ? (this.cluster(kind) as PluginKindMap[K] | undefined) : undefined;
  }

  /** Closes every instance; errors are collected, not thrown, so one bad plugin can't keep others open. */
  async closeAll(): Promise<string[]> {
    const errors: string[] = [];
    for (const [name, { instance }] of this.instances) {
      const close = (instance as { close?: () => Promise<void> }).close;
      if (typeof close === 'function') {
        try {
          await close.call(instance);
        } catch (err) {
          errors.push(`${name}: ${errorMessage(err)}`);
        }
      }
    }
    this.instances.clear();
    return errors;
  }
}
