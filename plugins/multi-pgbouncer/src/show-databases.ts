import type { SqlRow } from '@handyrep/plugin-sdk';
import type { Endpoint, RoutedDatabase } from './routing.js';

/** One row of pgbouncer's SHOW DATABASES, as far as this plugin reads it. */
export interface LiveDatabase {
  /** host as written in the [databases] line ('' for pgbouncer's own database). */
  host: string;
  /** port, as text. */
  port: string;
  /** dbname on the server. */
  database: string;
  /** True while PAUSEd or KILLed and not yet RESUMEd. */
  paused: boolean;
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/** SHOW DATABASES rows (from the SQL client or parsed psql output) by name. */
export function liveDatabases(rows: readonly SqlRow[]): Map<string, LiveDatabase> {
  const byName = new Map<string, LiveDatabase>();
  for (const row of rows) {
    byName.set(text(row['name']), {
      host: text(row['host']),
      port: text(row['port']),
      database: text(row['database']),
      paused: text(row['paused']) === '1',
    });
  }
  return byName;
}

/** True when pgbouncer routes `live` to `target` and `dbname`. */
export function routesTo(live: LiveDatabase | undefined, target: Endpoint, dbname: string): boolean {
  return live !== undefined && live.host === target.host && live.port === String(target.port) && live.database === dbname;
}

/** Where a live database goes, for details: `host:port/db`, or `absent`. */
export function describeLive(live: LiveDatabase | undefined): string {
  return live === undefined ? 'absent' : `${live.host}:${live.port}/${live.database}`;
}

/** The planned databases pgbouncer does not route as planned after a RELOAD, with where it routes them instead. */
export function routingMismatches(live: Map<string, LiveDatabase>, databases: readonly RoutedDatabase[]): string[] {
  return databases
    .filter((db) => !routesTo(live.get(db.alias), db.target, db.dbname))
    .map((db) => `${db.alias} goes to ${describeLive(live.get(db.alias))}, not ${db.target.host}:${db.target.port}/${db.dbname}`);
}
