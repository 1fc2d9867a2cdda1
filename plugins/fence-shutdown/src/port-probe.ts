import { errorMessage, networkFailureOf } from '@handyrep/plugin-sdk';
import type { SqlClient } from '@handyrep/plugin-sdk';

/**
 * What a connection attempt to the server's PostgreSQL port showed:
 * - `accepting`: it answered (a query ran, or it refused us for a reason only a running server gives);
 * - `not_accepting`: a postmaster answered that it is starting up or shutting down;
 * - `refused`: the host actively refused the TCP connection: nothing listens there;
 * - `timeout`: no answer in time (a hung server or a cut network look the same), or ETIMEDOUT;
 * - `unreachable`: the network says the host cannot be reached or resolved;
 * - `error`: anything else (e.g. a reset connection: something may still listen).
 */
export type PortState = 'accepting' | 'not_accepting' | 'refused' | 'timeout' | 'unreachable' | 'error';

/** A classified connection attempt. */
export interface PortProbe {
  /** The classification. */
  state: PortState;
  /** What was seen, for the return dictionary (never holds a password: the core scrubs SQL errors). */
  detail: string;
}

function sqlStateOf(err: unknown): string | undefined {
  const state = (err as { sqlState?: unknown } | null)?.sqlState;
  return typeof state === 'string' ? state : undefined;
}

/** Classifies what a connection attempt threw. */
export function classifyProbeError(err: unknown): PortProbe {
  const message = errorMessage(err);
  const network = networkFailureOf(err);
  // A reset is left to `error`: only the host's own refusal proves that nothing listens.
  if (network !== undefined && network !== 'reset') return { state: network, detail: message };
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
