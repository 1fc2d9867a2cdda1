import { compareServerNames, rankCandidates, replicaExclusionReasons } from '@handyrep/plugin-sdk';
import type { ReplicaCandidate, ReplicaSelection, SelectionOptions } from '@handyrep/plugin-sdk';

/** Rank of each status among eligible replicas; anything else (e.g. `unknown`) comes after `warning`. */
const STATUS_RANK: Readonly<Record<string, number>> = { healthy: 0, lagged: 1, warning: 2 };
const OTHER_STATUS_RANK = 3;

function statusRank(status: string): number {
  return STATUS_RANK[status] ?? OTHER_STATUS_RANK;
}

/** Healthier status first, then lower failover_priority, then name. */
function byPriority(a: ReplicaCandidate, b: ReplicaCandidate): number {
  return statusRank(a.status) - statusRank(b.status) || a.failover_priority - b.failover_priority || compareServerNames(a.name, b.name);
}

/** Orders eligible candidates by status, then failover_priority, then name; explains every exclusion. Pure. */
export function selectByPriority(candidates: readonly ReplicaCandidate[], options: SelectionOptions = {}): ReplicaSelection {
  return rankCandidates(candidates, (candidate) => replicaExclusionReasons(candidate, options), byPriority);
}
