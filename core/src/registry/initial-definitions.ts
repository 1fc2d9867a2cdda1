import type { ServerStatusName, StatusFields } from '@handyrep/plugin-sdk';
import { STATUS_KEYS } from '../config/core-schema.js';
import { unknownServerStatus } from '../status/server-status.js';
import type { SavedState } from './state-file.js';

/** What the registry is built from. */
export interface RegistryInput {
  /** `[server_defaults]` after schema defaults were applied. */
  serverDefaults: Record<string, unknown>;
  /** `[servers.<name>]` sections as written (no defaults applied), in file order. */
  configServers: Record<string, Record<string, unknown>>;
  /** The state file, or undefined when there is none yet. */
  saved: SavedState | undefined;
  /** `[handyrep] override_server_file`: take definitions from the config even when a state file exists. */
  overrideServerFile: boolean;
}

/** One server before defaults are applied: the keys set for it explicitly, and its status. */
export interface ExplicitServer {
  /** The server's name. */
  name: string;
  /** Keys from the config or saved state plus API changes; never status keys or `name`. */
  explicit: Record<string, unknown>;
  /** The server's status fields. */
  status: StatusFields<ServerStatusName>;
}

/** Where the definitions came from, and what the operator should be told about it. */
export interface InitialDefinitions {
  /** Servers in definition order. */
  servers: ExplicitServer[];
  /** Config entries that were ignored, in words, for the caller to log. */
  warnings: string[];
}

const OWNED_KEYS: readonly string[] = [...STATUS_KEYS, 'name'];

/** A copy without the keys the registry owns, so a stray one can never reach the state file (which refuses them). */
function definitionKeys(section: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(structuredClone(section)).filter(([key]) => !OWNED_KEYS.includes(key)));
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Chooses the explicit definitions per the spec: the config until a state file
 * exists, then the state file (it carries API changes the config never saw),
 * unless `override_server_file` says the config wins. With the override, the
 * statuses of same-named saved servers are kept so a restart does not forget
 * what was last seen.
 */
export function initialDefinitions(input: RegistryInput): InitialDefinitions {
  const { saved, configServers } = input;
  if (saved === undefined || input.overrideServerFile) {
    const servers = Object.entries(configServers).map(([name, section]) => ({
      name,
      explicit: definitionKeys(section),
      status: structuredClone(saved?.servers[name]?.status ?? unknownServerStatus()),
    }));
    return { servers, warnings: [] };
  }
  const servers = Object.entries(saved.servers).map(([name, server]) => ({
    name,
    explicit: definitionKeys(server.definition),
    status: structuredClone(server.status),
  }));
  const warnings: string[] = [];
  for (const [name, section] of Object.entries(configServers)) {
    const savedServer = saved.servers[name];
    if (savedServer === undefined) {
      warnings.push(
        `server ${name} in the config is ignored because servers.save is canonical; use add_server or override_server_file`,
      );
      continue;
    }
    const differing = Object.keys(definitionKeys(section)).filter((key) => !sameValue(section[key], savedServer.definition[key]));
    if (differing.length > 0) {
      warnings.push(
        `server ${name}: config values of ${differing.join(', ')} are ignored because servers.save is canonical; use alter_server_def or override_server_file`,
      );
    }
  }
  return { servers, warnings };
}
