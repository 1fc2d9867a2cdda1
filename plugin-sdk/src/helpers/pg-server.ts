import { posix } from 'node:path';
import { BadArgumentError } from '../errors.js';
import type { ServerDefinition } from '../server-definition.js';

/** What a plugin that copies, rewinds or reconfigures a PostgreSQL server needs to know about it, checked. */
export interface PgServer {
  /** Registry name (also the replica's application_name). */
  name: string;
  /** Registry role. */
  role: string;
  /** Host name or address, as other servers reach it. */
  hostname: string;
  /** PostgreSQL port. */
  port: number;
  /** Absolute, normalised data directory. */
  pgdata: string;
  /** postgresql.conf outside pgdata, or undefined when it lives in pgdata. */
  configFile: string | undefined;
  /** Directory of the PostgreSQL programs (pg_basebackup, pg_rewind, pg_ctl...). */
  pgBin: string;
  /** SSH login user (other hosts log in to it as this user to copy files). */
  sshUser: string;
  /** SSH port. */
  sshPort: number;
}

// Control characters would end a line in the probe output or postgresql.auto.conf.
const CONTROL = /[\x00-\x1f\x7f]/;

function text(definition: Readonly<ServerDefinition>, key: string): string {
  const value = definition[key];
  if (typeof value !== 'string' || value === '') {
    throw new BadArgumentError(`server ${definition.name}: '${key}' must be set, got ${JSON.stringify(value)}`);
  }
  if (CONTROL.test(value)) throw new BadArgumentError(`server ${definition.name}: '${key}' contains a control character`);
  return value;
}

/**
 * A data directory a plugin may empty: absolute, already normalised (no
 * `.`/`..` segments, no doubled or trailing slash) and not `/`, so that what
 * the registry says is exactly what `find -delete` gets.
 */
function dataDirectory(server: string, path: string): string {
  if (!posix.isAbsolute(path)) throw new BadArgumentError(`server ${server}: 'pgdata' must be an absolute path, got ${JSON.stringify(path)}`);
  if (path === '/' || posix.normalize(path) !== path || path.endsWith('/')) {
    throw new BadArgumentError(`server ${server}: 'pgdata' ${JSON.stringify(path)} must be a normalised directory path other than /`);
  }
  return path;
}

function sameDirectory(a: string, b: string): boolean {
  return posix.normalize(`${a}/`) === posix.normalize(`${b}/`);
}

/** Reads and checks a server definition (hostname, port, pgdata, pgconf, pg_bin, ssh_user, ssh_port); throws BadArgumentError on a missing or unusable value. */
export function pgServer(definition: Readonly<ServerDefinition>): PgServer {
  const name = definition.name;
  const hostname = text(definition, 'hostname');
  // A leading '-' would read as an option to ssh or a libpq tool.
  if (hostname.startsWith('-') || /\s/.test(hostname)) throw new BadArgumentError(`server ${name}: hostname ${JSON.stringify(hostname)} is not a host name`);
  const port = definition.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new BadArgumentError(`server ${name}: invalid port ${String(port)}`);
  const pgdata = dataDirectory(name, text(definition, 'pgdata'));
  const pgconfValue = definition['pgconf'];
  const pgconf = typeof pgconfValue === 'string' && pgconfValue !== '' ? pgconfValue : pgdata;
  if (CONTROL.test(pgconf)) throw new BadArgumentError(`server ${name}: 'pgconf' contains a control character`);
  const sshUser = definition['ssh_user'] ?? 'postgres';
  if (typeof sshUser !== 'string' || !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(sshUser)) {
    throw new BadArgumentError(`server ${name}: invalid ssh_user ${JSON.stringify(sshUser)}`);
  }
  const sshPort = definition['ssh_port'] ?? 22;
  if (typeof sshPort !== 'number' || !Number.isInteger(sshPort) || sshPort < 1 || sshPort > 65535) {
    throw new BadArgumentError(`server ${name}: invalid ssh_port ${String(sshPort)}`);
  }
  return {
    name,
    role: String(definition.role),
    hostname,
    port,
    pgdata,
    configFile: sameDirectory(pgconf, pgdata) ? undefined : posix.join(pgconf, 'postgresql.conf'),
    pgBin: text(definition, 'pg_bin'),
    sshUser,
    sshPort,
  };
}

/** An absolute path for a file named in the config relative to pgdata. */
export function inDataDirectory(pgdata: string, file: string): string {
  return posix.isAbsolute(file) ? file : posix.join(pgdata, file);
}
