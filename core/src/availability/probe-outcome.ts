import { ErrorCodes, hasErrorCode } from '@handyrep/plugin-sdk';
import type { PollResult } from '@handyrep/plugin-sdk';

/**
 * How a probe of a server went. `refused` is an answer (the host is up and
 * nothing listens); `timeout` and `unreachable` are silence, which proves nothing.
 */
export type ProbeOutcome = 'ok' | 'rejecting' | 'refused' | 'timeout' | 'unreachable' | 'error' | 'not_checked';

const REFUSED = new Set(['ECONNREFUSED', 'ECONNRESET']);
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

function causeCodes(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** How a failed remote call failed, in the terms the failover decision uses. */
export function outcomeOfError(err: unknown): ProbeOutcome {
  if (hasErrorCode(err, ErrorCodes.TIMEOUT)) return 'timeout';
  const codes = causeCodes(err);
  if (codes.some((code) => REFUSED.has(code))) return 'refused';
  if (codes.some((code) => UNREACHABLE.has(code))) return 'unreachable';
  if (codes.includes('ETIMEDOUT')) return 'timeout';
  return 'error';
}

/** A poll's answer as a probe outcome. */
export function outcomeOfPoll(poll: PollResult): ProbeOutcome {
  switch (poll.state) {
    case 'accepting':
      return 'ok';
    case 'rejecting':
      return 'rejecting';
    case 'bad_config':
      return 'error';
    case 'no_response':
      return poll.failure ?? 'timeout';
  }
}
