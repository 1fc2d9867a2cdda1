import { posix } from 'node:path';
import { BadArgumentError } from '@handyrep/plugin-sdk';
import type { ServerDefinition } from '@handyrep/plugin-sdk';

/** The paths pg_ctl needs for one server. */
export interface PgCtlPaths {
  /** Data directory (`-D`). */
  pgdata: string;
  /** postgresql.conf to pass as `config_file`, or undefined when it lives in pgdata. */
  configFile: string | undefined;
  /** The pg_ctl executable. */
  pgCtl: string;
  /** Absolute log file for `pg_ctl start -l`. */
  logFile: string;
}

/**
 * Characters that are live inside double quotes in /bin/sh. pg_ctl builds the
 * postgres command line as `exec "<postgres>" -D "<pgdata>" ... >> "<log>"`
 * and hands it to /bin/sh (for start, and for config-only data directories
 * on every command), so a path holding one of these would run as shell code
 * on the server, however well HandyRep quoted it.
 */
const SHELL_LIVE_IN_DOUBLE_QUOTES = /["$`\\\n]/;

function requiredString(definition: Readonly<ServerDefinition>, key: string): string {
  const value = definition[key];
  if (typeof value !== 'string' || value === '') {
    throw new BadArgumentError(`server ${definition.name}: '${key}' must be set (a non-empty path), got ${JSON.stringify(value)}`);
  }
  return value;
}

function safeForPgCtl(server: string, what: string, path: string): string {
  if (SHELL_LIVE_IN_DOUBLE_QUOTES.test(path)) {
    throw new BadArgumentError(
      `server ${server}: ${what} ${JSON.stringify(path)} contains a character (" $ \` \\ or a newline) that pg_ctl passes to /bin/sh unescaped; refusing to run pg_ctl with it`,
    );
  }
  return path;
}

function absolute(server: string, key: string, path: string): string {
  if (!posix.isAbsolute(path)) throw new BadArgumentError(`server ${server}: '${key}' must be an absolute path, got ${JSON.stringify(path)}`);
  return path;
}

function sameDirectory(a: string, b: string): boolean {
  return posix.normalize(`${a}/`) === posix.normalize(`${b}/`);
}

/** Reads and checks pgdata, pgconf and pg_bin of a server; throws BadArgumentError on a missing or unsafe path. */
export function pgCtlPaths(definition: Readonly<ServerDefinition>, logFile: string): PgCtlPaths {
  const server = definition.name;
  const pgdata = safeForPgCtl(server, 'pgdata', absolute(server, 'pgdata', requiredString(definition, 'pgdata')));
  const pgBin = safeForPgCtl(server, 'pg_bin', requiredString(definition, 'pg_bin'));
  const pgconfValue = definition['pgconf'];
  const pgconf = typeof pgconfValue === 'string' && pgconfValue !== '' ? pgconfValue : pgdata;
  const log = safeForPgCtl(server, 'log_file', posix.isAbsolute(logFile) ? logFile : posix.join(pgdata, logFile));
  return {
    pgdata,
    // Also checked: the postmaster records its options double-quoted in postmaster.opts, which a later `pg_ctl restart` replays.
    configFile: sameDirectory(pgconf, pgdata)
      ? undefined
      : posix.join(safeForPgCtl(server, 'pgconf', absolute(server, 'pgconf', pgconf)), 'postgresql.conf'),
    pgCtl: posix.join(pgBin, 'pg_ctl'),
    logFile: log,
  };
}
