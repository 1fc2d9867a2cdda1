import { ErrorCodes, errorMessage, hasErrorCode } from './errors.js';

/**
 * How a connection attempt failed on the network, as far as the operating
 * system said: `refused` (the host answered that nothing listens), `reset`
 * (the peer dropped the connection), `timeout` (silence), `unreachable` (no
 * route, host down, or the name does not resolve).
 */
export type NetworkFailure = 'refused' | 'reset' | 'timeout' | 'unreachable';

const REFUSED: ReadonlySet<string> = new Set(['ECONNREFUSED']);
const RESET: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const UNREACHABLE: ReadonlySet<string> = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME']);
const TIMED_OUT: ReadonlySet<string> = new Set(['ETIMEDOUT']);

/** How deep `cause` chains are followed; wrappers rarely nest more than twice. */
const MAX_CAUSE_DEPTH = 8;

/**
 * Operating-system error codes (`ECONNREFUSED`, `ENOTFOUND`...) on `err` and
 * along its `cause` chain, then those named in its message: the core drops a
 * cause that would leak a password, but the code is still in the text.
 */
export function errnoCodesOf(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  for (const match of errorMessage(err).matchAll(/\b(E[A-Z][A-Z_]{3,})\b/g)) {
    if (match[1] !== undefined && !codes.includes(match[1])) codes.push(match[1]);
  }
  return codes;
}

/**
 * What a failed connection attempt says about the network, or undefined when
 * it says nothing the network decided (a server's own error, a bug). A
 * HandyRep time-out (`HR_TIMEOUT`) is `timeout` whatever it wraps.
 */
export function networkFailureOf(err: unknown): NetworkFailure | undefined {
  if (hasErrorCode(err, ErrorCodes.TIMEOUT)) return 'timeout';
  const codes = errnoCodesOf(err);
  // Refused before reset: a refusal is the host's own word, whatever happened to the socket afterwards.
  if (codes.some((code) => REFUSED.has(code))) return 'refused';
  if (codes.some((code) => RESET.has(code))) return 'reset';
  if (codes.some((code) => UNREACHABLE.has(code))) return 'unreachable';
  if (codes.some((code) => TIMED_OUT.has(code))) return 'timeout';
  return undefined;
}
