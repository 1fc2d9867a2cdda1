import type { ReplicaCandidate, SelectionOptions } from '@handyrep/plugin-sdk';

/** Statuses of a server that must not be promoted whatever else it reports. */
const UNUSABLE_STATUSES: ReadonlySet<string> = new Set(['down', 'unavailable']);

/**
 * Why `candidate` may not become the new master; empty when it may. Every
 * reason found is listed, so an operator fixes them all at once. An unknown
 * lag (`lag_mb` null) does not exclude: with the master gone the core may have
 * nothing to measure it against.
 */
export function exclusionReasons(candidate: ReplicaCandidate, options: SelectionOptions = {}): string[] {
  const reasons: string[] = [];
  if (candidate.nofailover) reasons.push('nofailover is set');
  if (!candidate.reachable) reasons.push('did not answer the latest check');
  if (!candidate.in_recovery) reasons.push('not in recovery (not a replica)');
  if (UNUSABLE_STATUSES.has(candidate.status)) reasons.push(`status is ${candidate.status}`);
  if (options.ignoreLagLimit !== true && candidate.lag_mb !== null && candidate.lag_mb > candidate.failover_lag_limit) {
    reasons.push(`lag ${candidate.lag_mb} MB exceeds failover_lag_limit ${candidate.failover_lag_limit} MB`);
  }
  return reasons;
}

/** Splits candidates into eligible ones (input order) and exclusions; a repeated name counts once, the first time. */
export function partitionCandidates(
  candidates: readonly ReplicaCandidate[],
  reasonsOf: (candidate: ReplicaCandidate) => string[],
): { eligible: ReplicaCandidate[]; excluded: { name: string; reason: string }[] } {
  const eligible: ReplicaCandidate[] = [];
  const excluded: { name: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    if (seen.has(candidate.name)) {
      excluded.push({ name: candidate.name, reason: 'listed more than once (the first entry counts)' });
      continue;
    }
    seen.add(candidate.name);
    const reasons = reasonsOf(candidate);
    if (reasons.length === 0) eligible.push(candidate);
    else excluded.push({ name: candidate.name, reason: reasons.join('; ') });
  }
  return { eligible, excluded };
}

/** Orders names by code unit, independent of the locale, so every host sorts the same. */
export function compareNames(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}
