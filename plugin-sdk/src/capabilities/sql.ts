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

/** How a held connection (`SqlClient.hold`) looks after itself while idle. */
export interface HeldSessionOptions {
  /**
   * Milliseconds of idleness before TCP keepalive probes start (SO_KEEPALIVE
   * with TCP_KEEPIDLE); default 10000. Node.js cannot set TCP_USER_TIMEOUT, so
   * unacknowledged data is not what ends a connection early: bound each
   * round trip yourself and `close()` the session when it runs out.
   */
  keepAliveIdleMs?: number;
}

/**
 * A connection that stays open across calls, for checks that should cost one
 * round trip (e.g. polls): opened by `SqlClient.hold`, closed by its owner.
 */
export interface HeldSqlSession extends SqlSession {
  /**
   * Undefined while the connection is usable; otherwise why it is not (the
   * server closed it, a reset, a keepalive time-out, a statement that timed
   * out, `close()`), as the error a fresh connection would have thrown: a
   * coded HandyRep error whose message and cause carry the errno or SQLSTATE.
   */
  readonly lost: Error | undefined;
  /** Closes the connection at once (a busy one is cut, not waited for); safe to call twice, never throws. */
  close(): Promise<void>;
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
   * Opens a connection that stays open until `close()` or until it is lost
   * (see `HeldSqlSession.lost`), with TCP keepalive. The connect time-out
   * applies to opening it, the statement time-out to each statement. Optional
   * so that SQL clients written before it still type-check: a plugin that needs
   * it says so when it is missing (cores before SDK 1.1 have none).
   */
  hold?(target: SqlTarget, options?: HeldSessionOptions): Promise<HeldSqlSession>;
  /**
   * A libpq-style connection string for `target` without the password, for
   * tools such as pg_basebackup or `primary_conninfo`.
   */
  conninfo(target: SqlTarget, extra?: Record<string, string>): string;
}
