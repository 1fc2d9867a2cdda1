import { success } from '@handyrep/plugin-sdk';
import type { Alert, AlertPlugin, AlertSeverity, PluginContext, ReturnDictionary } from '@handyrep/plugin-sdk';
import type { AlertLogConfig } from './config.js';
import { atLeast } from './severity.js';

/** The log level each severity is written at. */
export const LEVEL_BY_SEVERITY = { info: 'info', warning: 'warn', critical: 'error' } as const satisfies Record<AlertSeverity, string>;

/** The `alert_log` instance: writing to the log cannot fail, so every alert is delivered or deliberately skipped. */
export function createAlertLog(context: PluginContext<AlertLogConfig>): AlertPlugin {
  const { min_severity: minSeverity } = context.config;
  return {
    async send(alert: Alert): Promise<ReturnDictionary<{ sent: boolean }>> {
      if (!atLeast(alert.severity, minSeverity)) {
        return success(`${alert.severity} alert ${alert.type} is below min_severity ${minSeverity}: not logged`, { sent: false });
      }
      const level = LEVEL_BY_SEVERITY[alert.severity] ?? 'error';
      context.logger[level](`ALERT ${alert.severity} ${alert.type}: ${alert.message}`, {
        alert: alert.type,
        severity: alert.severity,
        server: alert.server ?? null,
        cluster_status: alert.cluster_status ?? null,
        at: new Date(alert.at).toISOString(),
      });
      return success(`${alert.type} alert logged at ${level} level`, { sent: true });
    },
  };
}
