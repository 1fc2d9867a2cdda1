import type { Alert } from '@handyrep/plugin-sdk';

/** The JSON body POSTed for one alert. */
export interface WebhookPayload {
  /** Alert type, e.g. `failover_started`. */
  type: Alert['type'];
  /** `info`, `warning` or `critical`. */
  severity: Alert['severity'];
  /** One line for humans. */
  message: string;
  /** Server concerned, or null. */
  server: string | null;
  /** Cluster status when the alert was raised, or null. */
  cluster_status: string | null;
  /** The configured cluster name. */
  cluster_name: string;
  /** When, ISO 8601 in UTC. */
  at: string;
}

/** The payload for `alert`. */
export function buildPayload(alert: Alert, clusterName: string): WebhookPayload {
  return {
    type: alert.type,
    severity: alert.severity,
    message: alert.message,
    server: alert.server ?? null,
    cluster_status: alert.cluster_status ?? null,
    cluster_name: clusterName,
    at: new Date(alert.at).toISOString(),
  };
}
