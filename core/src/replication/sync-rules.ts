/**
 * Synchronous replication as a fence (issue 13), as pure functions: which
 * standbys form the synchronous set S and how many (k) must acknowledge a
 * commit, in which order a change of (S, k) is recorded and applied so the
 * recorded set always covers the master's real one, and when enough of S is
 * reachable to fail over without reaching the old master.
 *
 * The invariant: every commit the master acknowledged is on at least k_r
 * members of the recorded S_r. It holds while the applied (S_a, k_a) has
 * S_a ⊆ S_r and k_a ≥ k_r, and a narrowing change is recorded only once the
 * remaining members have caught up with every commit acknowledged before it.
 */

/** `[failover] synchronous_mode`. */
export type SynchronousMode = 'off' | 'quorum' | 'quorum_strict';

/** A synchronous set and its quorum: `ANY k (members)`; k = 0 is asynchronous. */
export interface SyncSet {
  members: string[];
  k: number;
}

/** What HandyRep knows of one replica when it chooses the set. */
export interface SyncCandidate {
  /** Server name. */
  name: string;
  /** Its application_name as the master sees it. */
  applicationName: string;
  /** Enabled, status healthy (not lagged), not nofailover. */
  eligible: boolean;
  /** Streaming from the master right now (pg_stat_replication). */
  streaming: boolean;
}

/** The empty, asynchronous set. */
export const ASYNC: SyncSet = { members: [], k: 0 };

function sorted(names: Iterable<string>): string[] {
  return [...new Set(names)].sort();
}

/**
 * The set HandyRep wants: the eligible, streaming replicas. With `quorum`, k
 * is lowered (down to 0 = asynchronous) when fewer members remain; with
 * `quorum_strict` the set never shrinks below k: failed members stay and
 * writes wait rather than lose the guarantee.
 */
export function targetSyncSet(mode: SynchronousMode, count: number, candidates: readonly SyncCandidate[], current: SyncSet): SyncSet {
  if (mode === 'off') return ASYNC;
  const healthy = sorted(candidates.filter((c) => c.eligible && c.streaming).map((c) => c.applicationName));
  if (mode === 'quorum') return { members: healthy, k: Math.min(count, healthy.length) };
  if (healthy.length >= count) return { members: healthy, k: count };
  // Strict: keep as many of the current members (failed or not) as it takes to stay at k.
  const kept = current.members.filter((member) => !healthy.includes(member)).slice(0, count - healthy.length);
  const members = sorted([...healthy, ...kept]);
  return { members, k: Math.min(count, members.length) };
}

/** The `synchronous_standby_names` value for a set ('' when asynchronous). */
export function standbyNames(set: SyncSet): string {
  if (set.k === 0 || set.members.length === 0) return '';
  const quoted = set.members.map((name) => `"${name.replace(/"/g, '""')}"`);
  return `ANY ${set.k} (${quoted.join(', ')})`;
}

/** Reads a `synchronous_standby_names` value back (ANY/FIRST/plain list); undefined when it cannot be parsed. */
export function parseStandbyNames(value: string): SyncSet | undefined {
  const text = value.trim();
  if (text === '') return ASYNC;
  const match = /^(?:(ANY|FIRST)\s+(\d+)\s*\((.*)\)|(.*))$/is.exec(text);
  if (!match) return undefined;
  const list = (match[3] ?? match[4] ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
  const members = list.map((item) => (item.startsWith('"') && item.endsWith('"') ? item.slice(1, -1).replace(/""/g, '"') : item.toLowerCase()));
  const k = match[2] === undefined ? 1 : Number(match[2]);
  return { members: sorted(members), k };
}

/** Whether two sets are the same. */
export function sameSet(a: SyncSet, b: SyncSet): boolean {
  return a.k === b.k && a.members.length === b.members.length && a.members.every((member, index) => member === b.members[index]);
}

/** The steps of a change from the recorded set to the target, in the only safe order. */
export interface SyncTransition {
  /** Record this first (a superset of both, with the smaller k), when it differs from the recorded set. */
  widen?: SyncSet;
  /** Then apply the target on the master (ALTER SYSTEM + reload, confirmed by SHOW). */
  apply: SyncSet;
  /** The change narrows the guarantee (a member leaves, or k grows): wait for the remaining members to catch up before recording. */
  narrows: boolean;
  /** Finally record the target. */
  record: SyncSet;
}

/** Plans the change from `recorded` to `target`; undefined when nothing changes. */
export function planTransition(recorded: SyncSet, applied: SyncSet | undefined, target: SyncSet): SyncTransition | undefined {
  if (sameSet(recorded, target) && applied !== undefined && sameSet(applied, target)) return undefined;
  const union = sorted([...recorded.members, ...target.members]);
  const widened: SyncSet = union.length === 0 ? ASYNC : { members: union, k: Math.min(recorded.k, target.k) };
  const narrows = recorded.members.some((member) => !target.members.includes(member)) || target.k > recorded.k;
  return {
    ...(sameSet(widened, recorded) ? {} : { widen: widened }),
    apply: target,
    narrows,
    record: target,
  };
}

/** Whether the reachable members of the recorded set are a quorum: at least |S| − k + 1 of them (k ≥ 1). */
export function quorumOf(recorded: SyncSet, reachable: readonly string[]): { ok: boolean; needed: number; have: string[] } {
  const have = recorded.members.filter((member) => reachable.includes(member));
  if (recorded.k < 1 || recorded.members.length === 0) return { ok: false, needed: Number.POSITIVE_INFINITY, have };
  const needed = recorded.members.length - recorded.k + 1;
  return { ok: have.length >= needed, needed, have };
}

/** Reads a recorded set back from saved state. */
export function asSyncSet(value: unknown): SyncSet | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const members = record['members'];
  const k = record['k'];
  if (!Array.isArray(members) || !members.every((m) => typeof m === 'string') || typeof k !== 'number' || !Number.isInteger(k) || k < 0) return undefined;
  return { members: sorted(members as string[]), k };
}
