import { errorMessage } from '@handyrep/plugin-sdk';
import type { Clock, Logger, SqlClient } from '@handyrep/plugin-sdk';

/** How to reach a server for the checks. */
export interface RecoveryCheckOptions {
  /** SQL client. */
  sql: SqlClient;
  /** Connect and statement time-out of each check, in milliseconds. */
  timeoutMs: number;
}

/** True when the server is in recovery; throws when it cannot be asked. */
export async function inRecovery(options: RecoveryCheckOptions, server: string): Promise<boolean> {
  const rows = await options.sql.query<{ in_recovery: unknown }>(
    { server, connectTimeoutMs: options.timeoutMs, statementTimeoutMs: options.timeoutMs },
    'SELECT pg_is_in_recovery() AS in_recovery',
  );
  const value = rows[0]?.in_recovery;
  if (typeof value !== 'boolean') throw new Error(`pg_is_in_recovery() on ${server} returned ${JSON.stringify(value)}`);
  return value;
}

/** What the confirmation loop saw. */
export interface Confirmation {
  /** True once pg_is_in_recovery() said false. */
  confirmed: boolean;
  /** Checks made. */
  checks: number;
  /** The last thing seen: `in recovery` or an error message. */
  last: string;
}

/**
 * Asks pg_is_in_recovery() until it says false or `confirmMs` have passed
 * (at least one check); errors (a server restarting its connections while it
 * leaves recovery) are retried until the deadline.
 */
export async function confirmLeftRecovery(
  options: RecoveryCheckOptions & { clock: Clock; logger: Logger; confirmMs: number; intervalMs: number },
  server: string,
): Promise<Confirmation> {
  const deadline = options.clock.now() + options.confirmMs;
  let checks = 0;
  let last = 'not checked';
  for (;;) {
    checks++;
    try {
      if (!(await inRecovery(options, server))) return { confirmed: true, checks, last: 'out of recovery' };
      last = 'still in recovery';
    } catch (err) {
      last = `check failed: ${errorMessage(err)}`;
      options.logger.debug(`recovery check on ${server} failed`, { server, error: errorMessage(err) });
    }
    if (options.clock.now() >= deadline) return { confirmed: false, checks, last };
    await options.clock.sleep(options.intervalMs);
  }
}
