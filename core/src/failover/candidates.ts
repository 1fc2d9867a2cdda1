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

/** Why a candidate may not be promoted by the core's rules, or undefined when it may. */
export function ineligibility(candidate: ReplicaCandidate, ignoreLagLimit: boolean): string | undefined {
  if (!candidate.reachable || !candidate.in_recovery) return 'did not answer as a replica in recovery';
  if (candidate.nofailover) return 'is marked nofailover';
  if (!ignoreLagLimit && candidate.lag_mb !== null && candidate.lag_mb > candidate.failover_lag_limit) {
    return `is ${candidate.lag_mb} MB behind, over its failover_lag_limit of ${candidate.failover_lag_limit} MB`;
  }
  return undefined;
}

/** What the core needs to know to check a selection. */
export interface SelectionRules {
  /** Lag limits are waived (manual, explicit). */
  ignoreLagLimit: boolean;
  /** A planned switchover: the old master's last WAL reaches every replica before promotion. */
  planned: boolean;
}

function moreAdvanced(a: ReplicaCandidate, b: ReplicaCandidate): boolean {
  return a.received_lsn_bytes !== null && (b.received_lsn_bytes === null || a.received_lsn_bytes > b.received_lsn_bytes);
}

/**
 * The core's check of whatever the selection plugin returned: names that are
 * not enabled replicas (the old master, unknown servers) and replicas the
 * rules exclude (nofailover, over the lag limit, not in recovery) are
 * dropped with a reason; the most advanced go first; and, when the master is
 * gone, no replica is promoted while an eligible one the plugin left out has
 * received more WAL.
 */
export function checkSelection(selection: ReplicaSelection, candidates: readonly ReplicaCandidate[], rules: SelectionRules): ReplicaSelection {
  const byName = new Map(candidates.map((candidate) => [candidate.name, candidate]));
  const excluded = [...selection.excluded];
  const accepted: string[] = [];
  for (const name of new Set(selection.ordered)) {
    const candidate = byName.get(name);
    const reason = candidate ? ineligibility(candidate, rules.ignoreLagLimit) : 'is not an enabled replica';
    if (reason) excluded.push({ name, reason: `${reason} (the selection plugin chose it; the core overrules)` });
    else accepted.push(name);
  }
  const ordered = enforceMostAdvancedFirst({ ordered: accepted, excluded: [] }, candidates).ordered;
  if (rules.planned) return { ordered, excluded };
  const leftOut = candidates.filter((c) => !accepted.includes(c.name) && ineligibility(c, rules.ignoreLagLimit) === undefined);
  const safe = ordered.filter((name) => {
    const candidate = byName.get(name) as ReplicaCandidate;
    const ahead = leftOut.filter((other) => moreAdvanced(other, candidate));
    if (ahead.length === 0) return true;
    excluded.push({ name, reason: `has received less WAL than ${ahead.map((a) => a.name).join(', ')}, which the selection plugin left out: promoting it would lose commits` });
    return false;
  });
  return { ordered: safe, excluded };
}

/**
 * The checks on a replica the operator named (manual_failover newmaster): a
 * reason to refuse, or undefined. A planned switchover is not refused for a
 * replica that streams from the master and is only momentarily behind
 * another: the old master's clean stop waits until every streaming replica
 * has its last WAL. One that does not stream would not get it.
 */
export function checkNamedCandidate(name: string, candidates: readonly ReplicaCandidate[], rules: SelectionRules, streaming: ReadonlySet<string> = new Set()): string | undefined {
  const { ignoreLagLimit } = rules;
  const named = candidates.find((candidate) => candidate.name === name);
  if (!named) return `${name} is not an enabled replica`;
  const reason = ineligibility(named, ignoreLagLimit);
  if (reason) return `${name} ${reason}${reason.includes('failover_lag_limit') ? ' (override the lag limit to promote it anyway)' : ''}`;
  if (rules.planned && streaming.has(name)) return undefined;
  const ahead = candidates.filter((other) => other.name !== name && other.reachable && moreAdvanced(other, named) && named.received_lsn_bytes !== null);
  if (ahead.length > 0 && !ignoreLagLimit) {
    return `${name} has received less WAL than ${ahead.map((a) => a.name).join(', ')}; promoting it would lose commits (override the lag limit to do it anyway)`;
  }
  return undefined;
}
