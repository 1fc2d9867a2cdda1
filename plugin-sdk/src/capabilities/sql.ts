/** Which PostgreSQL (or pgbouncer) endpoint to talk to, and as whom. */
export interface SqlTarget {
  /** A server name from the registry. */
  server: string;
  /** Database; defaults to `[handyrep] handyrep_db`. */
  database?: string;
  /** User; defaults to `[handyrep] postgres_superuser`. */
  user?: string;
  /** Key in `[passwords]` holding this user's password; defaults to `superuser_password`. */
  passwordKey?: string;
  /** Port; defaults to the server's `port`. */
  port?: number;
  /** Give up connecting after this many milliseconds. */
  connectTimeoutMs?: number;
  /** Cancel any statement running longer than this. */
  statementTimeoutMs?: number;
  /**
   * Also send `statement_timeout` to the server as a startup parameter
   * (default true). pgbouncer refuses unknown startup parameters unless told
   * to ignore them; with false only the client-side timer applies.
   */
  serverStatementTimeout?: boolean;
}

/** Rows of a query, as objects keyed by column name. */
export type SqlRow = Record<string, unknown>;

/** A connection held for several statements (e.g. pg_backup_start/stop in one session). */
export interface SqlSession {
  /** Runs one statement with `$1`-style parameters. */
  query<Row extends SqlRow = SqlRow>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/**
 * SQL access to servers. Every call has a connect and a statement time-out
 * and `application_name=handyrep`; passwords never leave the core.
 */
export interface SqlClient {
  /** Opens a connection, runs one statement, closes it. */
  query<Row extends SqlRow = SqlRow>(target: SqlTarget, text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs `work` with one connection, closing it afterwards whatever happens. */
  withSession<T>(target: SqlTarget, work: (session: SqlSession) => Promise<T>): Promise<T>;
  /**
   * A libpq-style connection string for `target` without the password, for
   * tools such as pg_basebackup or `primary_conninfo`.
   */
  conninfo(target: SqlTarget, extra?: Record<string, string>): string;
}
