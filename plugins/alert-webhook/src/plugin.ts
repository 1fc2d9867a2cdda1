import { definePlugin } from '@handyrep/plugin-sdk';
import { createAlertWebhook } from './alert-webhook.js';
import { alertWebhookConfigSchema } from './config.js';
import type { AlertWebhookConfig } from './config.js';

/** `push_alert_method = alert_webhook`. */
export const plugin = definePlugin<'alert', AlertWebhookConfig>({
  kind: 'alert',
  name: 'alert_webhook',
  description: 'Sends alerts as JSON POSTs to a webhook, with timeout and retry.',
  configSchema: alertWebhookConfigSchema,
  create(context) {
    return createAlertWebhook(context);
  },
});
