import { compareServerNames, rankCandidates, replicaExclusionReasons } from '@handyrep/plugin-sdk';
import type { ReplicaCandidate, ReplicaSelection, SelectionOptions } from '@handyrep/plugin-sdk';

/** The common reasons plus an unknown received position: without one it cannot be ranked. */
function reasonsOf(candidate: ReplicaCandidate, options: SelectionOptions): string[] {
  const reasons = replicaExclusionReasons(candidate, options);
  if (candidate.received_lsn_bytes === null) reasons.push('received WAL position is unknown');
  return reasons;
}

/** Received position (0 when unknown; unknown ones are excluded before sorting). */
const received = (candidate: ReplicaCandidate): bigint => candidate.received_lsn_bytes ?? 0n;

/** Most WAL received first (least data lost on promotion), then lower failover_priority, then name. */
function byPosition(a: ReplicaCandidate, b: ReplicaCandidate): number {
  const ahead = received(b) - received(a);
  if (ahead !== 0n) return ahead > 0n ? 1 : -1;
  return a.failover_priority - b.failover_priority || compareServerNames(a.name, b.name);
}

/** Orders eligible candidates by received WAL position, then failover_priority, then name; explains every exclusion. Pure. */
export function selectFurthestAhead(candidates: readonly ReplicaCandidate[], options: SelectionOptions = {}): ReplicaSelection {
  return rankCandidates(candidates, (candidate) => reasonsOf(candidate, options), byPosition);
}
