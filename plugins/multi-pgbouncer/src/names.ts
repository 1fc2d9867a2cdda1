import { BadArgumentError } from '@handyrep/plugin-sdk';

/** One database name pgbouncer will know, and what it routes to. */
export interface DatabaseAlias {
  /** The name clients connect to (`appdb`, `appdb_ro`). */
  alias: string;
  /** The database on the PostgreSQL server (`dbname=`). */
  dbname: string;
  /** True for the `<db><readonly_suffix>` alias pointing at a replica. */
  readonly: boolean;
}

/** pgbouncer keeps database names in a 64-byte buffer with its terminating NUL. */
const MAX_ALIAS_LENGTH = 63;

const SAFE_NAME = /^[A-Za-z0-9_]+$/;

/**
 * Host names written after `host=`: pgbouncer splits its connection strings on
 * spaces and quotes, so anything else would change the line's meaning.
 */
const SAFE_HOST = /^[A-Za-z0-9._:/-]+$/;

/** The configured database list as names: a list, or one comma-separated string. */
export function parseDatabaseList(value: readonly string[] | string): string[] {
  const items = typeof value === 'string' ? value.split(',') : [...value];
  return items.map((item) => item.trim());
}

/**
 * Every alias pgbouncer must know: each database, and its read-only alias
 * unless the suffix is empty. Throws BadArgumentError for a name that is
 * empty, not made of letters, digits and underscores, too long, repeated, or
 * that collides with another database's alias.
 */
export function databaseAliases(databaseList: readonly string[] | string, readonlySuffix: string): DatabaseAlias[] {
  const names = parseDatabaseList(databaseList);
  if (names.length === 0 || (names.length === 1 && names[0] === '')) {
    throw new BadArgumentError('database_list is empty: name at least one database');
  }
  for (const name of names) {
    if (!SAFE_NAME.test(name)) {
      throw new BadArgumentError(`database_list: '${name}' is not allowed (only letters, digits and underscores)`);
    }
  }
  if (readonlySuffix !== '' && !SAFE_NAME.test(readonlySuffix)) {
    throw new BadArgumentError(`readonly_suffix: '${readonlySuffix}' is not allowed (only letters, digits and underscores)`);
  }
  const aliases: DatabaseAlias[] = names.map((name) => ({ alias: name, dbname: name, readonly: false }));
  if (readonlySuffix !== '') {
    aliases.push(...names.map((name) => ({ alias: `${name}${readonlySuffix}`, dbname: name, readonly: true })));
  }
  const seen = new Set<string>();
  for (const { alias } of aliases) {
    if (alias.length > MAX_ALIAS_LENGTH) throw new BadArgumentError(`database '${alias}' is longer than ${MAX_ALIAS_LENGTH} characters`);
    // pgbouncer compares database names exactly, but two names differing only in case confuse every operator.
    const key = alias.toLowerCase();
    if (seen.has(key)) throw new BadArgumentError(`database '${alias}' appears twice (database_list and its ${readonlySuffix} aliases must not overlap)`);
    seen.add(key);
  }
  return aliases;
}

/** Throws BadArgumentError unless `hostname` can be written after `host=` in a pgbouncer connection string. */
export function assertSafeHost(server: string, hostname: string): void {
  if (!SAFE_HOST.test(hostname)) {
    throw new BadArgumentError(`server ${server}: hostname '${hostname}' cannot be written into pgbouncer's [databases] (letters, digits, . _ : / - only)`);
  }
}

/** Throws BadArgumentError unless `port` is a TCP port. */
export function assertPort(server: string, port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BadArgumentError(`server ${server}: invalid port ${String(port)}`);
  }
  return port;
}
