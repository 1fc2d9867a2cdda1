import { errorCodeOf, errorMessage, fail } from '@handyrep/plugin-sdk';
import type { ReturnDictionary } from '@handyrep/plugin-sdk';

/**
 * A FAIL dictionary for a measurement that could not be made, carrying the
 * error code so the core can tell a time-out (ambiguous) from a refusal.
 * The core's SQL errors never contain passwords, so the message is passed on.
 */
export function measurementFailed<Extra extends object>(
  what: string,
  err: unknown,
  extra: Extra,
): ReturnDictionary<Extra & { error_code: string | null }> {
  return fail(`${what}: ${errorMessage(err)}`, { ...extra, error_code: errorCodeOf(err) });
}
