import { BadArgumentError } from '@handyrep/plugin-sdk';

/** A switchover asked for at a later time (`manual_failover` with `at`), as kept in the saved state. */
export interface ScheduledSwitchover {
  /** When it is to run, ISO-8601 in UTC. */
  at: string;
  /** The replica to promote, or null for the selection's best candidate at the time. */
  newmaster: string | null;
  /** Point the other replicas at the new master. */
  remaster: boolean;
  /** Promote a named replica past its lag limit. */
  ignore_lag_limit: boolean;
  /** The master when it was scheduled: a different master by the time cancels it. */
  master: string;
  /** When it was asked for, ISO-8601 in UTC. */
  requested_at: string;
}

/** The key under which the pending switchover lives in the saved state's `extra`. */
export const SCHEDULE_KEY = 'scheduled_switchover';

/** How far ahead a switchover may be scheduled: further out, a typo in the date is likelier than a plan. */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 3600 * 1000;

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The offset in minutes of `Z`, `+02:00` or `-0530`. */
function offsetMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
}

/**
 * The time `value` names, in ms since the epoch: an ISO-8601 date and time
 * with seconds optional and an explicit offset (`Z` or `±hh:mm`), at least
 * a moment after `nowMs` and at most MAX_SCHEDULE_AHEAD_MS after it.
 * Anything else throws BadArgumentError saying what was wrong.
 */
export function parseSwitchoverTime(value: unknown, nowMs: number): number {
  if (typeof value !== 'string') throw new BadArgumentError('at must be an ISO-8601 time such as 2026-12-03T22:00:00Z');
  const match = ISO_TIME.exec(value.trim());
  if (!match) {
    throw new BadArgumentError(`at must be an ISO-8601 date and time with an offset or Z (e.g. 2026-12-03T22:00:00Z or 2026-12-03T23:00:00+01:00), got ${JSON.stringify(value)}`);
  }
  const [, year, month, day, hour, minute, second = '0', fraction = '', zone = 'Z'] = match;
  const offset = offsetMinutes(zone);
  const wall = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const back = new Date(wall);
  // Date.UTC rolls 31 February over into March: a date that does not come back unchanged does not exist.
  const exists =
    back.getUTCFullYear() === Number(year) &&
    back.getUTCMonth() === Number(month) - 1 &&
    back.getUTCDate() === Number(day) &&
    back.getUTCHours() === Number(hour) &&
    back.getUTCMinutes() === Number(minute) &&
    back.getUTCSeconds() === Number(second) &&
    Math.abs(offset) <= 18 * 60 &&
    (zone === 'Z' || Number(zone.slice(-2)) < 60);
  if (!exists) throw new BadArgumentError(`at names a time that does not exist: ${JSON.stringify(value)}`);
  const atMs = wall - offset * 60_000 + Math.floor(Number(`0.${fraction || '0'}`) * 1000);
  if (atMs <= nowMs) throw new BadArgumentError(`at is in the past (${new Date(atMs).toISOString()}; it is ${new Date(nowMs).toISOString()} now)`);
  if (atMs - nowMs > MAX_SCHEDULE_AHEAD_MS) {
    throw new BadArgumentError(`at is more than ${MAX_SCHEDULE_AHEAD_MS / 86_400_000} days ahead (${new Date(atMs).toISOString()}); schedule it closer to the time`);
  }
  return atMs;
}

/** Reads a pending switchover back from saved state, or undefined when there is none (or it is not one). */
export function asScheduledSwitchover(value: unknown): ScheduledSwitchover | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record['at'] !== 'string' || Number.isNaN(Date.parse(record['at']))) return undefined;
  if (typeof record['master'] !== 'string' || typeof record['requested_at'] !== 'string') return undefined;
  if (record['newmaster'] !== null && typeof record['newmaster'] !== 'string') return undefined;
  if (typeof record['remaster'] !== 'boolean' || typeof record['ignore_lag_limit'] !== 'boolean') return undefined;
  return value as ScheduledSwitchover;
}

/** What the scheduler knows when it looks at a pending switchover. */
export interface ScheduleFacts {
  /** Now, ms since the epoch. */
  nowMs: number;
  /** How late it may still start (switchover_grace_seconds), in ms. */
  graceMs: number;
  /** The enabled master now, or null when there is none (or several). */
  master: string | null;
  /** A failover journal is open: a failover is running or was interrupted. */
  failoverInProgress: boolean;
  /** Why an earlier failover failed, while that issue stands; undefined otherwise. */
  failedFailover: string | undefined;
  /** Maintenance mode is on. */
  paused: boolean;
}

/** What to do with a pending switchover now. */
export type ScheduleStep =
  | { step: 'wait' }
  | { step: 'cancel'; reason: string }
  /** Its time has come and nothing rules it out yet: check the master and the candidate, then run it. */
  | { step: 'due'; lateMs: number };

/**
 * The rules of a scheduled switchover that need no server: a changed master
 * or a failover cancels it at any time; at its time, it is cancelled when
 * more than the grace late, paused, or when a failover is unresolved or failed.
 */
export function decideScheduled(pending: ScheduledSwitchover, facts: ScheduleFacts): ScheduleStep {
  if (facts.master !== pending.master) {
    return { step: 'cancel', reason: `the master changed since it was scheduled (${pending.master} then, ${facts.master ?? 'no single enabled master'} now)` };
  }
  if (facts.failoverInProgress) return { step: 'cancel', reason: 'a failover is in progress or was interrupted' };
  const lateMs = facts.nowMs - Date.parse(pending.at);
  if (lateMs < 0) return { step: 'wait' };
  if (lateMs > facts.graceMs) {
    return { step: 'cancel', reason: `it is ${Math.round(lateMs / 1000)} s past its time, more than switchover_grace_seconds (${facts.graceMs / 1000} s): HandyRep was not running or was busy at the time` };
  }
  if (facts.paused) return { step: 'cancel', reason: 'HandyRep is paused (maintenance mode)' };
  if (facts.failedFailover !== undefined) return { step: 'cancel', reason: `an earlier failover failed (${facts.failedFailover})` };
  return { step: 'due', lateMs };
}
