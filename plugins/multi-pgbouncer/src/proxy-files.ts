import { BadArgumentError, shellQuote } from '@handyrep/plugin-sdk';
import type { ServerDefinition } from '@handyrep/plugin-sdk';
import { DEFAULT_DATABASES_FILE, DEFAULT_PGBOUNCER_CONFIG } from './config.js';

/** The files of one proxy host, from its per-server keys. */
export interface ProxyFiles {
  /** pgbouncer.ini; empty when the %include line is not to be checked. */
  config: string;
  /** The `[databases]` file this plugin owns. */
  databases: string;
}

/** pgbouncer reads a `%include` line up to its end without unquoting: no spaces, quotes or shell characters. */
const SAFE_PATH = /^\/[A-Za-z0-9_./+-]*$/;

function pathKey(server: Readonly<ServerDefinition>, key: string, fallback: string, allowEmpty: boolean): string {
  const raw = server[key];
  const value = raw === undefined ? fallback : String(raw);
  if (value === '' && allowEmpty) return value;
  if (!SAFE_PATH.test(value) || value.endsWith('/')) {
    throw new BadArgumentError(`server ${server.name}: ${key} '${value}' must be an absolute file path of letters, digits and . _ / + -`);
  }
  return value;
}

/** The proxy's files; throws BadArgumentError for a path that is relative or holds characters pgbouncer or a shell would misread. */
export function proxyFiles(server: Readonly<ServerDefinition>): ProxyFiles {
  return {
    config: pathKey(server, 'pgbouncer_config', DEFAULT_PGBOUNCER_CONFIG, true),
    databases: pathKey(server, 'pgbouncer_databases_file', DEFAULT_DATABASES_FILE, false),
  };
}

/** The exact `%include` line pgbouncer.ini must hold. */
export function includeLine(files: ProxyFiles): string {
  return `%include ${files.databases}`;
}

/** Exit status of includeCheckScript when the line is missing (grep's "no match"). */
export const INCLUDE_MISSING_EXIT = 1;

/**
 * Checks pgbouncer.ini has the `%include` line (leading and trailing blanks
 * allowed, as pgbouncer allows them): exit 0 found, 1 missing, 2 unreadable.
 */
export function includeCheckScript(files: ProxyFiles): string {
  const escaped = files.databases.replace(/[.+]/g, '\\$&');
  return `grep -Eq -- ${shellQuote(`^[[:space:]]*%include[[:space:]]+${escaped}[[:space:]]*$`)} ${shellQuote(files.config)}`;
}
