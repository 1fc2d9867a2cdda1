import { errnoCodesOf, ErrorCodes, errorMessage, pollFailureOf } from '@handyrep/plugin-sdk';
import type { PollObservation, PollState } from '@handyrep/plugin-sdk';

/** Shutdown, crash restart, start-up or standby not accepting connections (admin_shutdown, crash_shutdown, cannot_connect_now). */
const REJECTING_SQLSTATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03']);

/** The same situations as worded by the server, for an error that lost its SQLSTATE on the way. */
const REJECTING_TEXT = /the database system is (starting up|shutting down|not (yet )?accepting connections|in recovery mode)/i;

/** pg's client-side wording when the server wants a password and none was given, or SCRAM went wrong. */
const PASSWORD_TEXT = /client password must be|no password (was )?supplied|SASL: SCRAM/i;

const MAX_CAUSE_DEPTH = 5;

function stringField(value: unknown, key: string): string | undefined {
  const field = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return typeof field === 'string' ? field : undefined;
}

/** HandyRep's code (HR_...) and the server's SQLSTATE, from the error or its causes. */
function factsOf(err: unknown): { code: string | undefined; sqlState: string | undefined } {
  let code: string | undefined;
  let sqlState: string | undefined;
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth += 1) {
    const own = stringField(current, 'code');
    if (own?.startsWith('HR_')) code ??= own;
    // Only a server message carries a severity; an errno has none.
    else if (own !== undefined && stringField(current, 'severity') !== undefined && /^[0-9A-Z]{5}$/.test(own)) sqlState ??= own;
    sqlState ??= stringField(current, 'sqlState');
    current = (current as { cause?: unknown }).cause;
  }
  return { code, sqlState };
}

/**
 * What a failed open or round trip says about the server, with the rules of
 * the fresh-connection polls (poll_connect): a time-out is no_response/timeout;
 * a server starting up or shutting down (57P0x) is rejecting; credentials,
 * names or TLS that cannot work are bad_config; any other server message
 * proves it up (accepting, as libpq's PQping decides); without an answer,
 * `failure` is the SDK's network classification (a refusal or a reset is
 * refused, ETIMEDOUT timeout, no route unreachable, anything else error).
 */
export function classifyPollError(err: unknown): PollObservation {
  const { code, sqlState } = factsOf(err);
  const message = errorMessage(err);
  const seen = (state: PollState, why: string, failure?: PollObservation['failure']): PollObservation =>
    failure === undefined ? { state, details: `${why}: ${message}` } : { state, details: `${why}: ${message}`, failure };

  if (code === ErrorCodes.TIMEOUT) return seen('no_response', 'no answer in time', 'timeout');
  if (code === ErrorCodes.SECRET_MISSING || code === ErrorCodes.BAD_ARGUMENT) return seen('bad_config', 'cannot even try', 'error');
  if (code === ErrorCodes.PG_TLS) return seen('bad_config', 'no trusted TLS connection', 'error');
  if (sqlState !== undefined) {
    if (REJECTING_SQLSTATES.has(sqlState)) return seen('rejecting', 'rejecting connections');
    if (sqlState.startsWith('28')) return seen('bad_config', 'authentication failed (check [passwords] superuser_password, postgres_superuser and pg_hba.conf)');
    if (sqlState === '3D000') return seen('bad_config', 'the configured database does not exist');
    return seen('accepting', 'the server is up but refused this session');
  }
  if (REJECTING_TEXT.test(message)) return seen('rejecting', 'rejecting connections');
  if (PASSWORD_TEXT.test(message)) return seen('bad_config', 'the server asks for a password that is not configured or does not work ([passwords] superuser_password)');
  if (errnoCodesOf(err).includes('ENOTFOUND')) return seen('bad_config', 'the host name does not resolve', 'unreachable');
  return seen('no_response', 'no connection', pollFailureOf(err));
}
