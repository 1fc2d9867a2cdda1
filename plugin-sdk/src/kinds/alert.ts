import type { ReturnDictionary } from '../return-dictionary.js';
import type { PluginInstanceBase } from './base.js';

/** Kinds of alert, as in the original HandyRep. */
export type AlertType =
  | 'status_warning'
  | 'cluster_down'
  | 'failover_started'
  | 'failover_finished'
  | 'failover_failed'
  | 'internal_error';

/** How bad it is. */
export type AlertSeverity = 'info' | 'warning' | 'critical';

/** One alert. */
export interface Alert {
  /** What happened. */
  type: AlertType;
  /** How bad it is. */
  severity: AlertSeverity;
  /** One line for humans. */
  message: string;
  /** The server concerned, if any. */
  server?: string;
  /** The cluster status at the time. */
  cluster_status?: string;
  /** When, in milliseconds since the epoch. */
  at: number;
}

/** `push_alert_method`: delivers alerts somewhere people will see them. */
export interface AlertPlugin extends PluginInstanceBase {
  /** Sends one alert; FAIL when it could not be delivered. */
  send(alert: Alert): Promise<ReturnDictionary>;
}
