import { definePlugin } from '@handyrep/plugin-sdk';
import { createAlertEmail } from './alert-email.js';
import { alertEmailConfigSchema } from './config.js';
import type { AlertEmailConfig } from './config.js';

/** `push_alert_method = alert_email`. */
export const plugin = definePlugin<'alert', AlertEmailConfig>({
  kind: 'alert',
  name: 'alert_email',
  description: 'Sends alerts by SMTP e-mail with TLS.',
  configSchema: alertEmailConfigSchema,
  create(context) {
    return createAlertEmail(context);
  },
});
