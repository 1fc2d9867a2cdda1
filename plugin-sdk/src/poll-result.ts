import type { PollResult, PollState } from './kinds/poll.js';
import { networkFailureOf } from './network-failure.js';
import { fail, success } from './return-dictionary.js';

/** Why a polled server gave no answer: `PollResult.failure`. */
export type PollFailure = NonNullable<PollResult['failure']>;

/** What one poll observed, before it becomes a return dictionary. */
export interface PollObservation {
  /** The verdict in pg_isready's terms. */
  state: PollState;
  /** What was seen, for the operator. */
  details: string;
  /** Why no answer came, when none came. */
  failure?: PollFailure;
  /** Whether the server is in recovery, when the method asked. */
  inRecovery?: boolean;
}

/**
 * The poll failure an error thrown while connecting implies: a refusal or a
 * reset is `refused` (the host answered and nothing listens), a time-out
 * `timeout`, a missing route or name `unreachable`, anything else `error`.
 * Only `refused` counts towards the core's "certain death", so whatever is
 * not clearly one of the others is `error`. A reset that comes after the
 * server already answered is no refusal: callers that can tell the two apart
 * (a raw socket) decide that case themselves.
 */
export function pollFailureOf(err: unknown): PollFailure {
  const network = networkFailureOf(err);
  if (network === undefined) return 'error';
  return network === 'reset' ? 'refused' : network;
}

/**
 * The poll's return dictionary: SUCCESS exactly when the server accepts
 * connections (then never with `failure`), FAIL otherwise; `duration_ms`
 * rounded to 0.1 ms.
 */
export function pollResult(observation: PollObservation, durationMs: number): PollResult {
  const duration_ms = Math.round(durationMs * 10) / 10;
  const { state, details } = observation;
  if (state === 'accepting') {
    return observation.inRecovery === undefined ? success(details, { state, duration_ms }) : success(details, { state, in_recovery: observation.inRecovery, duration_ms });
  }
  return observation.failure === undefined ? fail(details, { state, duration_ms }) : fail(details, { state, failure: observation.failure, duration_ms });
}
