import { ErrorCodes, errorMessage, hasErrorCode } from '@handyrep/plugin-sdk';
import type { SqlClient } from '@handyrep/plugin-sdk';

/**
 * What a connection attempt to the server's PostgreSQL port showed:
 * - `accepting`: it answered (a query ran, or it refused us for a reason only a running server gives);
 * - `not_accepting`: a postmaster answered that it is starting up or shutting down;
 * - `refused`: the host actively refused the TCP connection: nothing listens there;
 * - `timeout`: no answer in time (a hung server or a cut network look the same);
 * - `unreachable`: the network says the host cannot be reached or resolved;
 * - `error`: anything else (e.g. a reset connection).
 */
export type PortState = 'accepting' | 'not_accepting' | 'refused' | 'timeout' | 'unreachable' | 'error';

/** A classified connection attempt. */
export interface PortProbe {
  /** The classification. */
  state: PortState;
  /** What was seen, for the return dictionary (never holds a password: the core scrubs SQL errors). */
  detail: string;
}

const UNREACHABLE_ERRNOS: ReadonlySet<string> = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

/** Operating-system error codes (ECONNREFUSED...) found on the error or along its `cause` chain. */
function errnoCodes(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  // The core drops the cause when it would leak a password; the errno is still in the message.
  for (const match of errorMessage(err).matchAll(/\b(E[A-Z]{4,})\b/g)) if (match[1]) codes.push(match[1]);
  return codes;
}

function sqlStateOf(err: unknown): string | undefined {
  const state = (err as { sqlState?: unknown } | null)?.sqlState;
  return typeof state === 'string' ? state : undefined;
}

/** Classifies what a connection attempt threw. */
export function classifyProbeError(err: unknown): PortProbe {
  const message = errorMessage(err);
  if (hasErrorCode(err, ErrorCodes.TIMEOUT)) return { state: 'timeout', detail: message };
  const codes = errnoCodes(err);
  if (codes.includes('ECONNREFUSED')) return { state: 'refused', detail: message };
  if (codes.some((code) => UNREACHABLE_ERRNOS.has(code))) return { state: 'unreachable', detail: message };
  const sqlState = sqlStateOf(err);
  // Class 57P: cannot_connect_now (starting up, shutting down) and the shutdown terminations.
  if (sqlState?.startsWith('57P')) return { state: 'not_accepting', detail: message };
  // Any other server message (bad password, no such database, too many clients) comes from a live postmaster.
  if (sqlState !== undefined) return { state: 'accepting', detail: message };
  return { state: 'error', detail: message };
}

/** Tries to connect to `server` and run `SELECT 1`, within `timeoutMs`, and classifies the outcome. */
export async function probePort(sql: SqlClient, server: string, timeoutMs: number): Promise<PortProbe> {
  try {
    await sql.query({ server, connectTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs }, 'SELECT 1');
    return { state: 'accepting', detail: 'a connection succeeded and SELECT 1 ran' };
  } catch (err) {
    return classifyProbeError(err);
  }
}
