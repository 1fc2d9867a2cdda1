import { definePlugin } from '@handyrep/plugin-sdk';
import { createAlertLog } from './alert-log.js';
import { alertLogConfigSchema } from './config.js';
import type { AlertLogConfig } from './config.js';

/** `push_alert_method = alert_log`. */
export const plugin = definePlugin<'alert', AlertLogConfig>({
  kind: 'alert',
  name: 'alert_log',
  description: 'Writes alerts to the HandyRep log at a level by severity.',
  configSchema: alertLogConfigSchema,
  create(context) {
    return createAlertLog(context);
  },
});
