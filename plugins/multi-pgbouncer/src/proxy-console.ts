import { ErrorCodes, HandyRepError, errorMessage } from '@handyrep/plugin-sdk';
import type { PluginContext, SqlRow, SqlTarget } from '@handyrep/plugin-sdk';
import type { AdminMethod, MultiPgbouncerConfig } from './config.js';

/** The statement poll() runs through a proxy into each database. */
export const PROBE_STATEMENT = 'SELECT pg_is_in_recovery() AS in_recovery';

/** The two ways of talking to a pgbouncer: its admin console, and a pooled database through it. */
export interface ProxyConsole {
  /** `sql` or `psql`, for details. */
  readonly method: AdminMethod;
  /** Runs one admin console command on `proxy` (database `pgbouncer`); the rows of SHOW commands, else none. */
  admin(proxy: string, command: string, timeoutMs: number): Promise<SqlRow[]>;
  /** Runs PROBE_STATEMENT through `proxy` into `database` as the superuser. */
  probe(proxy: string, database: string, timeoutMs: number): Promise<SqlRow[]>;
}

/** pgbouncer's answer to the core SQL client's statement_timeout startup parameter. */
const STARTUP_PARAMETER_REFUSED = /unsupported startup parameter/i;

/** Explains the one known incompatibility between the core's SQL client and a default pgbouncer. */
export function explainSqlFailure(err: unknown): unknown {
  const message = errorMessage(err);
  if (!STARTUP_PARAMETER_REFUSED.test(message)) return err;
  return new HandyRepError(
    ErrorCodes.SQL,
    `${message}; HandyRep's SQL client sends statement_timeout when it connects: add it to ignore_startup_parameters in pgbouncer.ini, or set admin_method = psql`,
    { cause: err },
  );
}

/** The admin console and pooled databases through the core's SQL client (TCP to the proxy's hostname:port). */
export class SqlProxyConsole implements ProxyConsole {
  readonly method = 'sql' as const;

  constructor(private readonly context: PluginContext<MultiPgbouncerConfig>) {}

  admin(proxy: string, command: string, timeoutMs: number): Promise<SqlRow[]> {
    const { admin_user: user, admin_password_key: key } = this.context.config;
    const target: SqlTarget = { server: proxy, database: 'pgbouncer', ...this.timeouts(timeoutMs) };
    if (user !== '') target.user = user;
    if (key !== '') target.passwordKey = key;
    // No parameters: the admin console speaks only the simple query protocol.
    return this.context.sql.query(target, command).catch((err: unknown) => Promise.reject(explainSqlFailure(err)));
  }

  probe(proxy: string, database: string, timeoutMs: number): Promise<SqlRow[]> {
    return this.context.sql
      .query({ server: proxy, database, ...this.timeouts(timeoutMs) }, PROBE_STATEMENT)
      .catch((err: unknown) => Promise.reject(explainSqlFailure(err)));
  }

  private timeouts(timeoutMs: number): { connectTimeoutMs: number; statementTimeoutMs: number } {
    return { connectTimeoutMs: Math.round(this.context.config.admin_timeout_seconds * 1000), statementTimeoutMs: timeoutMs };
  }
}
