import type { AlertSeverity, ObjectSchema } from '@handyrep/plugin-sdk';
import { minSeveritySchema } from './severity.js';

/** The `[plugins.alert_log]` section, defaults applied. */
export interface AlertLogConfig {
  /** Alerts below this severity are not logged by the plugin. */
  min_severity: AlertSeverity;
}

/** JSON Schema of `[plugins.alert_log]`. */
export const alertLogConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Alerts written to the HandyRep log: critical as error, warning as warn, info as info.',
  properties: {
    min_severity: minSeveritySchema('Least severe alert written: info, warning or critical.'),
  },
  additionalProperties: false,
};
