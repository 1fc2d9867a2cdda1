/** Server status names of the spec, indexed by their number. */
export const SERVER_STATUSES = ['unknown', 'healthy', 'lagged', 'warning', 'unavailable', 'down'] as const;

/** A server status name. */
export type ServerStatusName = (typeof SERVER_STATUSES)[number];

/** Cluster status names of the spec with their numbers (2 and 4 are not used at cluster level). */
export const CLUSTER_STATUSES = { unknown: 0, healthy: 1, warning: 3, down: 5 } as const;

/** A cluster status name. */
export type ClusterStatusName = keyof typeof CLUSTER_STATUSES;

/** The four status fields the spec gives both servers and the cluster. */
export interface StatusFields<Name extends string = string> {
  /** Status name. */
  status: Name;
  /** Status number, for alert thresholds. */
  status_no: number;
  /** When the status was last checked, `YYYY-MM-DD HH:MM:SS` UTC; empty before the first check. */
  status_ts: string;
  /** The last issue found, in words. */
  status_message: string;
}
