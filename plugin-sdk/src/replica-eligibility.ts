import type { ReplicaCandidate, ReplicaSelection, SelectionOptions } from './kinds/replica-selection.js';

/** Statuses of a server that must not be promoted whatever else it reports. */
const UNUSABLE_STATUSES: ReadonlySet<string> = new Set(['down', 'unavailable']);

/** Why one candidate may not be promoted; empty when it may. */
export type ExclusionReasons = (candidate: ReplicaCandidate) => string[];

/**
 * The reasons every selection method shares for not promoting `candidate`:
 * `nofailover`, no answer to the latest check, not in recovery, status down or
 * unavailable, lag past its `failover_lag_limit` (unless
 * `options.ignoreLagLimit`). Empty when none applies. Every reason found is
 * listed, so an operator fixes them all at once. An unknown lag (`lag_mb`
 * null) does not exclude: with the master gone the core may have nothing to
 * measure it against. Methods add their own reasons to this list.
 */
export function replicaExclusionReasons(candidate: ReplicaCandidate, options: SelectionOptions = {}): string[] {
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

/**
 * Splits candidates into eligible ones (input order) and exclusions (input
 * order, reasons joined with `; `). A repeated name counts once, the first
 * time: the core must never see one server twice in an ordering.
 */
export function partitionCandidates(
  candidates: readonly ReplicaCandidate[],
  reasonsOf: ExclusionReasons,
): { eligible: ReplicaCandidate[]; excluded: ReplicaSelection['excluded'] } {
  const eligible: ReplicaCandidate[] = [];
  const excluded: ReplicaSelection['excluded'] = [];
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

/** Orders server names by code unit, independent of the locale, so every HandyRep host breaks ties the same way. */
export function compareServerNames(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/**
 * A whole selection: the candidates `reasonsOf` leaves in, sorted best first
 * by `compare`, and every exclusion with its reason. Pure; the input is not
 * touched.
 */
export function rankCandidates(
  candidates: readonly ReplicaCandidate[],
  reasonsOf: ExclusionReasons,
  compare: (a: ReplicaCandidate, b: ReplicaCandidate) => number,
): ReplicaSelection {
  const { eligible, excluded } = partitionCandidates(candidates, reasonsOf);
  return { ordered: eligible.sort(compare).map((candidate) => candidate.name), excluded };
}
