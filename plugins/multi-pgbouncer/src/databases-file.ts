import type { RoutedDatabase, RoutingPlan } from './routing.js';

/**
 * One `[databases]` line. No `user=` or `password=`: pgbouncer logs in to the
 * backend with the client's own name and the secret it holds for it in
 * auth_file (or gets through auth_query), so no password is ever written here.
 */
export function databaseLine(database: RoutedDatabase): string {
  const { host, port } = database.target;
  return `${database.alias} = host=${host} port=${port} dbname=${database.dbname}`;
}

/**
 * The whole file: a header saying who owns it, then a `[databases]` section.
 * The content depends only on the plan (no time stamp), so writing the same
 * plan twice writes the same bytes.
 */
export function renderDatabasesFile(plan: RoutingPlan, path: string): string {
  return [
    '; Written by HandyRep (plugin multi_pgbouncer) on init and on every failover: do not edit, changes are overwritten.',
    `; pgbouncer.ini includes it with its last line: %include ${path}`,
    `; read-write -> ${plan.master.server}; read-only -> ${plan.readonlyTarget.server}`,
    '[databases]',
    ...plan.databases.map(databaseLine),
    '',
  ].join('\n');
}
