/**
 * Formats an epoch time in milliseconds as `YYYY-MM-DD HH:MM:SS` in UTC, the
 * format of the spec's `status_ts` example ("2013-11-14 03:57:43"). UTC keeps
 * timestamps comparable across HandyRep instances in different time zones.
 */
export function formatStatusTimestamp(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${ms}`);
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
