import { ErrorCodes } from '@handyrep/plugin-sdk';

/** Codes meaning no SSH session was ever opened (connection or host key refused), so no command ran on the host. */
const NEVER_REACHED: ReadonlySet<unknown> = new Set([ErrorCodes.SSH_CONNECT, ErrorCodes.SSH_HOST_KEY]);

/** True when `code` (an error's, or a FAIL dictionary's `error_code`) proves the command never reached the host. */
export function neverReachedHost(code: unknown): boolean {
  return NEVER_REACHED.has(code);
}
