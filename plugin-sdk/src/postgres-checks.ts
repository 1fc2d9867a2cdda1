import type { Clock } from './capabilities/clock.js';
import type { Logger } from './capabilities/logger.js';
import type { SqlClient, SqlSession, SqlTarget } from './capabilities/sql.js';
import { errorMessage } from './errors.js';

const IN_RECOVERY = 'SELECT pg_is_in_recovery() AS in_recovery';

function recoveryAnswer(rows: readonly { in_recovery?: unknown }[], where: string): boolean {
  const value = rows[0]?.in_recovery;
  // Anything but a boolean means the question was not really answered; guessing either way could promote a master twice.
  if (typeof value !== 'boolean') throw new Error(`pg_is_in_recovery() on ${where} returned ${JSON.stringify(value)}`);
  return value;
}

/**
 * Asks `pg_is_in_recovery()` on a fresh connection to `target`: true on a
 * standby, false on a master. Throws when the server cannot be asked or gives
 * anything but a boolean.
 */
export async function queryInRecovery(sql: SqlClient, target: SqlTarget): Promise<boolean> {
  return recoveryAnswer(await sql.query<{ in_recovery: unknown }>(target, IN_RECOVERY), target.server);
}

/** `queryInRecovery` inside a session already open on `server`, e.g. before acting in that same session. */
export async function sessionInRecovery(session: SqlSession, server: string): Promise<boolean> {
  return recoveryAnswer(await session.query<{ in_recovery: unknown }>(IN_RECOVERY), server);
}

/** What `confirmLeftRecovery` saw. */
export interface RecoveryConfirmation {
  /** True once pg_is_in_recovery() said false. */
  confirmed: boolean;
  /** Checks made. */
  checks: number;
  /** The last thing seen: `out of recovery`, `still in recovery` or `check failed: <error>`. */
  last: string;
}

/** How long and how often `confirmLeftRecovery` asks. */
export interface RecoveryConfirmationOptions {
  /** Time source for the deadline and the pauses. */
  clock: Clock;
  /** Where failed checks are logged (debug). */
  logger: Logger;
  /** Keep asking this long; 0 means exactly one check. */
  confirmMs: number;
  /** Pause between two checks. */
  intervalMs: number;
}

/**
 * Asks `pg_is_in_recovery()` on `target` with fresh connections until it
 * says false or `confirmMs` have passed (at least one check). Errors are
 * retried until the deadline: a server leaving recovery may drop or refuse
 * connections for a moment. Never throws for the server's sake.
 */
export async function confirmLeftRecovery(sql: SqlClient, target: SqlTarget, options: RecoveryConfirmationOptions): Promise<RecoveryConfirmation> {
  const deadline = options.clock.now() + options.confirmMs;
  let checks = 0;
  let last = 'not checked';
  for (;;) {
    checks++;
    try {
      if (!(await queryInRecovery(sql, target))) return { confirmed: true, checks, last: 'out of recovery' };
      last = 'still in recovery';
    } catch (err) {
      last = `check failed: ${errorMessage(err)}`;
      options.logger.debug(`recovery check on ${target.server} failed`, { server: target.server, error: errorMessage(err) });
    }
    if (options.clock.now() >= deadline) return { confirmed: false, checks, last };
    await options.clock.sleep(options.intervalMs);
  }
}
