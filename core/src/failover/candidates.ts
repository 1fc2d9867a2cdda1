import { parseLsn } from '@handyrep/plugin-sdk';
import type { ReplicaCandidate, ReplicaPosition, ReplicaSelection, ServerDefinition } from '@handyrep/plugin-sdk';

const MB = 1024n * 1024n;

/** What HandyRep learned about one replica just before a failover. */
export interface ReplicaFacts {
  /** Its definition and status. */
  server: ServerDefinition;
  /** Its answer to `position()`, or undefined when it did not answer. */
  position: ReplicaPosition | undefined;
}

function numberOr<T>(value: unknown, fallback: T): number | T {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function received(position: ReplicaPosition | undefined): bigint | null {
  if (!position || position.result !== 'SUCCESS') return null;
  try {
    return parseLsn(position.received_lsn ?? position.replayed_lsn);
  } catch {
    return null;
  }
}

/**
 * Turns what the replicas said into selection candidates. Lag is measured
 * against `referenceLsn` (the master's current position when it answers) or,
 * when the master is gone, the most advanced replica: what a candidate lacks
 * is what would be lost by promoting it. `knownLagMb` (the lag last measured
 * on the master, per replica) raises that estimate when it is larger.
 */
export function buildCandidates(
  facts: readonly ReplicaFacts[],
  referenceLsn: bigint | null = null,
  knownLagMb: ReadonlyMap<string, number> = new Map(),
): ReplicaCandidate[] {
  const positions = facts.map((fact) => received(fact.position));
  const best = referenceLsn ?? positions.reduce<bigint | null>((max, lsn) => (lsn !== null && (max === null || lsn > max) ? lsn : max), null);
  return facts.map((fact, index) => {
    const lsn = positions[index] ?? null;
    const relativeLag = lsn !== null && best !== null ? Number(((best > lsn ? best - lsn : 0n) * 100n) / MB) / 100 : null;
    const lastKnown = knownLagMb.get(fact.server.name);
    const answered = fact.position !== undefined && fact.position.result === 'SUCCESS';
    return {
      name: fact.server.name,
      status: fact.server.status,
      reachable: answered,
      in_recovery: answered && fact.position?.in_recovery === true,
      received_lsn_bytes: lsn,
      // A dead master's last position is unknown; the lag measured at the last check is the best estimate of what it had.
      lag_mb: lastKnown === undefined ? relativeLag : Math.max(relativeLag ?? 0, lastKnown),
      failover_priority: numberOr(fact.server['failover_priority'], 999),
      nofailover: fact.server['nofailover'] === true,
      failover_lag_limit: numberOr(fact.server['failover_lag_limit'], Number.POSITIVE_INFINITY),
    };
  });
}

/**
 * The core's safety rule on top of any selection plugin: never promote a
 * replica while an eligible one has received more WAL. The plugin's order is
 * kept among equally advanced replicas (a stable sort); unknown positions go last.
 */
export function enforceMostAdvancedFirst(selection: ReplicaSelection, candidates: readonly ReplicaCandidate[]): ReplicaSelection {
  const lsnOf = new Map(candidates.map((candidate) => [candidate.name, candidate.received_lsn_bytes]));
  const ordered = [...selection.ordered].sort((a, b) => {
    const la = lsnOf.get(a) ?? null;
    const lb = lsnOf.get(b) ?? null;
    if (la === lb) return 0;
    if (la === null) return 1;
    if (lb === null) return -1;
    return la > lb ? -1 : 1;
  });
  return { ordered, excluded: selection.excluded };
}
