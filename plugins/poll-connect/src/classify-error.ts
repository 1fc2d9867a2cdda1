import { errnoCodesOf, ErrorCodes, errorMessage, pollFailureOf } from '@handyrep/plugin-sdk';
import type { PollFailure, PollState } from '@handyrep/plugin-sdk';

/** What a failed connection or query says about the server. */
export interface ErrorVerdict {
  /** The poll state it implies. */
  state: PollState;
  /** Why, in words, followed by the error's own message. */
  details: string;
  /** Why the server gave no answer, when it gave none. */
  failure?: PollFailure;
}

/** What can be read off an error and its causes without knowing their classes. */
interface ErrorFacts {
  /** HandyRep's stable code (HR_...), when it is a coded error. */
  code: string | undefined;
  /** PostgreSQL's SQLSTATE, when the server sent an error. */
  sqlState: string | undefined;
}

/** Shutdown, crash restart, start-up or standby not accepting connections (admin_shutdown, crash_shutdown, cannot_connect_now). */
const REJECTING_SQLSTATES = new Set(['57P01', '57P02', '57P03']);

/** The same situations as worded by the server, for an error that lost its SQLSTATE on the way. */
const REJECTING_TEXT = /the database system is (starting up|shutting down|not (yet )?accepting connections|in recovery mode)/i;

/** pg's client-side wording when the server wants a password and none was given, or SCRAM went wrong. */
const PASSWORD_TEXT = /client password must be|no password (was )?supplied|SASL: SCRAM/i;

const MAX_CAUSE_DEPTH = 5;

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}

function factsOf(err: unknown): ErrorFacts {
  const facts: ErrorFacts = { code: undefined, sqlState: undefined };
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
    const code = stringField(current, 'code');
    if (code !== undefined) {
      if (code.startsWith('HR_')) facts.code ??= code;
      // Only a server message carries a severity; an errno has none.
      else if (stringField(current, 'severity') !== undefined && /^[0-9A-Z]{5}$/.test(code)) facts.sqlState ??= code;
    }
    facts.sqlState ??= stringField(current, 'sqlState');
    current = (current as { cause?: unknown }).cause;
  }
  return facts;
}

/**
 * Classifies what the SQL client threw during a poll, in pg_isready's terms:
 * a time-out is no_response, a server starting up or shutting down is
 * rejecting, credentials or names HandyRep was configured with that do not
 * work are bad_config, and any other error the server itself sent still
 * proves it up (accepting), as libpq's PQping decides. Without an answer
 * from the server, `failure` says why: refused, timeout, unreachable, error.
 */
export function classifyPollError(err: unknown): ErrorVerdict {
  const facts = factsOf(err);
  const message = errorMessage(err);
  const verdict = (state: PollState, why: string): ErrorVerdict => ({ state, details: `${why}: ${message}` });

  if (facts.code === ErrorCodes.TIMEOUT) return { ...verdict('no_response', 'no answer in time'), failure: 'timeout' };
  if (facts.code === ErrorCodes.SECRET_MISSING || facts.code === ErrorCodes.BAD_ARGUMENT) return { ...verdict('bad_config', 'cannot even try'), failure: 'error' };
  // A certificate that does not verify, or a server without the TLS pg_sslmode asks for: nothing proves it is the server.
  if (facts.code === ErrorCodes.PG_TLS) return { ...verdict('bad_config', 'no trusted TLS connection'), failure: 'error' };
  if (facts.sqlState !== undefined) {
    if (REJECTING_SQLSTATES.has(facts.sqlState)) return verdict('rejecting', 'rejecting connections');
    if (facts.sqlState.startsWith('28')) return verdict('bad_config', 'authentication failed (check [passwords] superuser_password, postgres_superuser and pg_hba.conf)');
    if (facts.sqlState === '3D000') return verdict('bad_config', 'the configured database does not exist');
    return verdict('accepting', 'the server is up but refused this session');
  }
  if (REJECTING_TEXT.test(message)) return verdict('rejecting', 'rejecting connections');
  if (PASSWORD_TEXT.test(message)) return verdict('bad_config', 'the server asks for a password that is not configured or does not work ([passwords] superuser_password)');
  if (errnoCodesOf(err).includes('ENOTFOUND')) return { ...verdict('bad_config', 'the host name does not resolve'), failure: 'unreachable' };
  return { ...verdict('no_response', 'no connection'), failure: pollFailureOf(err) };
}
