import { CLUSTER_STATUSES } from '@handyrep/plugin-sdk';
import type { ClusterStatusName, ServerDefinition, StatusFields } from '@handyrep/plugin-sdk';
import { formatStatusTimestamp } from './status-time.js';

/** Roles whose status counts for the cluster; archive and user-defined roles are never polled. */
export const CLUSTER_ROLES: readonly string[] = ['master', 'replica', 'proxy', 'pgbouncer'];

/** True when `value` is one of the spec's cluster status names. */
export function isClusterStatusName(value: unknown): value is ClusterStatusName {
  return typeof value === 'string' && Object.hasOwn(CLUSTER_STATUSES, value);
}

/** The four status fields of the cluster in status `name`, computed at `atMs`. */
export function clusterStatus(name: ClusterStatusName, message: string, atMs: number): StatusFields<ClusterStatusName> {
  return { status: name, status_no: CLUSTER_STATUSES[name], status_ts: formatStatusTimestamp(atMs), status_message: message };
}

/** The cluster status before any check ran (empty `status_ts`). */
export function unknownClusterStatus(message = ''): StatusFields<ClusterStatusName> {
  return { status: 'unknown', status_no: CLUSTER_STATUSES.unknown, status_ts: '', status_message: message };
}

/** True when `fields` is a complete, consistent set of cluster status fields. */
export function isClusterStatusFields(fields: unknown): fields is StatusFields<ClusterStatusName> {
  if (typeof fields !== 'object' || fields === null) return false;
  const f = fields as Record<string, unknown>;
  return (
    isClusterStatusName(f.status) &&
    f.status_no === CLUSTER_STATUSES[f.status] &&
    typeof f.status_ts === 'string' &&
    typeof f.status_message === 'string'
  );
}

const VIABLE_MASTER = new Set(['healthy', 'lagged', 'warning']);
const FINE_OTHER = new Set(['healthy', 'lagged']);
const DOWN = new Set(['unavailable', 'down']);

/** True for a master status the cluster status counts as a working master (HandyRep does not fail it over). */
export function isViableMasterStatus(status: string): boolean {
  return VIABLE_MASTER.has(status);
}

/** True for a replica or proxy status that raises no cluster issue (healthy, or merely lagged). */
export function isFineOtherStatus(status: string): boolean {
  return FINE_OTHER.has(status);
}

function names(servers: readonly ServerDefinition[]): string {
  return servers.map((s) => s.name).join(', ');
}

/** "N <noun> <verb> (a, b)" for the servers in one group, or nothing when the group is empty. */
function countIssue(servers: readonly ServerDefinition[], phrase: string): string[] {
  return servers.length === 0 ? [] : [`${servers.length} ${phrase} (${names(servers)})`];
}

/** Issues of the non-master servers, replicas before proxies, each group worded like the spec's "1 replicas are down". */
function otherServerIssues(others: readonly ServerDefinition[]): string[] {
  const replicas = others.filter((s) => s.role === 'replica');
  const proxies = others.filter((s) => s.role === 'proxy' || s.role === 'pgbouncer');
  const issues: string[] = [];
  for (const [group, noun] of [
    [replicas, 'replicas'],
    [proxies, 'proxies'],
  ] as const) {
    issues.push(
      ...countIssue(group.filter((s) => DOWN.has(s.status)), `${noun} are down`),
      ...countIssue(group.filter((s) => s.status === 'warning'), `${noun} have warnings`),
      ...countIssue(group.filter((s) => s.status === 'unknown'), `${noun} not yet checked`),
    );
  }
  return issues;
}

/**
 * The cluster status of the spec from the servers' statuses and the issues
 * other logic reports (e.g. "failure to fail over").
 *
 * Only enabled master, replica, proxy and pgbouncer servers count: disabled
 * servers are not checked, and archive or user-defined roles are not polled,
 * so their status means nothing. The spec's rules: "healthy" needs "a viable
 * master, and all replicas are "healthy" or "lagged""; "warning" is "a viable
 * master, but … one or more issues, including connection problems, failure to
 * fail over, or downed replicas"; "down" is "no working master, or … an
 * indeterminate state" (no master, or several enabled masters); "unknown" means
 * "status checks have not been run".
 */
export function computeClusterStatus(
  servers: readonly ServerDefinition[],
  issues: readonly string[],
  atMs: number,
): StatusFields<ClusterStatusName> {
  const considered = servers.filter((s) => s.enabled && CLUSTER_ROLES.includes(s.role));
  if (considered.length === 0) return unknownClusterStatus('no enabled servers to check');
  if (considered.every((s) => s.status === 'unknown')) return unknownClusterStatus('status checks have not been run');

  const masters = considered.filter((s) => s.role === 'master');
  if (masters.length === 0) return clusterStatus('down', 'no master configured', atMs);
  if (masters.length > 1) {
    return clusterStatus('down', `${masters.length} enabled masters (${names(masters)}); disable all but one`, atMs);
  }
  const master = masters[0];
  if (DOWN.has(master.status)) {
    const detail = master.status_message === '' ? '' : `: ${master.status_message}`;
    return clusterStatus('down', `master ${master.name} is ${master.status}${detail}`, atMs);
  }
  if (!VIABLE_MASTER.has(master.status)) return clusterStatus('unknown', `master ${master.name} not yet checked`, atMs);

  const others = considered.filter((s) => s !== master && !FINE_OTHER.has(s.status));
  const problems: string[] = [];
  if (master.status === 'warning') {
    const detail = master.status_message === '' ? '' : `: ${master.status_message}`;
    problems.push(`master ${master.name} has a warning${detail}`);
  }
  problems.push(...otherServerIssues(others), ...issues.filter((i) => i !== ''));
  if (problems.length > 0) return clusterStatus('warning', problems.join('; '), atMs);

  const replicas = considered.filter((s) => s.role === 'replica');
  const lagged = replicas.filter((s) => s.status === 'lagged').length;
  const laggedText = lagged === 0 ? '' : `, ${lagged} lagged`;
  return clusterStatus('healthy', `cluster healthy: master ${master.name}, ${replicas.length} replicas${laggedText}`, atMs);
}
