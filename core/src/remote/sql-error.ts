import { describeTlsFailure, ErrorCodes, HandyRepError, TimeoutError, errorMessage } from '@handyrep/plugin-sdk';
import type { PgTls } from '@handyrep/plugin-sdk';

/** A SQL call that failed; `sqlState` is PostgreSQL's SQLSTATE when the server sent one (e.g. 28P01, 57P03). */
export class SqlError extends HandyRepError {
  /** The server's SQLSTATE, or undefined for connection-level failures. */
  readonly sqlState: string | undefined;

  constructor(message: string, sqlState: string | undefined, options?: { cause?: unknown }) {
    super(ErrorCodes.SQL, message, options);
    this.sqlState = sqlState;
  }
}

/** A connection refused for TLS reasons: the server's certificate did not verify, or it offers no TLS that pg_sslmode requires. */
export class PgTlsError extends HandyRepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.PG_TLS, message, options);
  }
}

/** Where a failing call went and what it was allowed, for the error message. */
export interface SqlFailureContext {
  /** `server x (user@host:port/db)`. */
  where: string;
  /** Which step failed. */
  phase: 'connect' | 'query';
  /** The time-out that applied to that step. */
  timeoutMs: number;
  /** The password used, so it can be scrubbed from anything echoed back; never put into the message. */
  password: string | undefined;
  /** The TLS settings in force, to explain a TLS failure. */
  tls?: PgTls;
}

function sqlStateOf(err: unknown): string | undefined {
  const fields = err as { code?: unknown; severity?: unknown } | null;
  // Only a server error message carries a severity; errno codes such as EPIPE also have five letters.
  if (typeof fields?.severity !== 'string') return undefined;
  const code = fields.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Turns whatever pg threw into a TimeoutError or an SqlError with a message
 * naming the target. The password is scrubbed from the text, and the original
 * error is kept as `cause` only when it does not contain it.
 */
export function toSqlFailure(err: unknown, context: SqlFailureContext): HandyRepError {
  if (err instanceof HandyRepError) return err;
  const raw = errorMessage(err);
  const secret = context.password;
  const leaks = secret !== undefined && secret !== '' && raw.includes(secret);
  const text = leaks ? raw.split(secret).join('***') : raw;
  const options = leaks ? undefined : { cause: err };
  const sqlState = sqlStateOf(err);

  // pg's own wording for its connect timer and its client-side query_timeout.
  if (context.phase === 'connect' && /timeout expired|connection timeout/i.test(text)) {
    return new TimeoutError(`connecting to ${context.where} timed out after ${context.timeoutMs} ms`, options);
  }
  if (/query read timeout/i.test(text)) {
    return new TimeoutError(`statement on ${context.where} got no answer within ${context.timeoutMs} ms`, options);
  }
  if (sqlState === '57014' && /statement timeout/i.test(text)) {
    return new TimeoutError(`statement on ${context.where} cancelled by statement_timeout (${context.timeoutMs} ms)`, options);
  }
  if (sqlState !== undefined) return new SqlError(`${context.where}: ${text} (SQLSTATE ${sqlState})`, sqlState, options);
  const tlsProblem = context.tls === undefined ? undefined : describeTlsFailure(err, context.tls);
  if (tlsProblem !== undefined) return new PgTlsError(`refusing ${context.where}: ${tlsProblem}`, options);
  const verb = context.phase === 'connect' ? 'cannot connect to' : 'query failed on';
  return new SqlError(`${verb} ${context.where}: ${text}`, undefined, options);
}
