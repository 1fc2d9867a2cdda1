import type { Clock, RemoteShell, Secrets, SettingsView, SqlClient } from '@handyrep/plugin-sdk';
import type { InjectionToken } from 'tsyringe';
import type { LoadedConfig } from '../config/load-config.js';
import type { CoreLogger } from '../logging/create-logger.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import type { StateStore } from '../state/state-store.js';

/** Adopting the state several HandyRep instances share; a no-op for a single instance. */
export interface SharedStateAccess {
  /** Reads the shared store and adopts a newer state. */
  refresh(): Promise<void>;
}

/** Injection tokens of the core's services. Plugins never see these: they get a PluginContext. */
export const Tokens = {
  config: Symbol('LoadedConfig') as InjectionToken<LoadedConfig>,
  logger: Symbol('CoreLogger') as InjectionToken<CoreLogger>,
  registry: Symbol('ServerRegistry') as InjectionToken<ServerRegistry>,
  stateStore: Symbol('StateStore') as InjectionToken<StateStore>,
  plugins: Symbol('PluginHost') as InjectionToken<PluginHost>,
  clock: Symbol('Clock') as InjectionToken<Clock>,
  shell: Symbol('RemoteShell') as InjectionToken<RemoteShell>,
  sql: Symbol('SqlClient') as InjectionToken<SqlClient>,
  secrets: Symbol('Secrets') as InjectionToken<Secrets>,
  settings: Symbol('SettingsView') as InjectionToken<SettingsView>,
  sharedState: Symbol('SharedStateAccess') as InjectionToken<SharedStateAccess>,
} as const;
