export { plugin } from './plugin.js';
export { alertWebhookConfigSchema } from './config.js';
export type { AlertWebhookConfig } from './config.js';
export type { WebhookPayload } from './payload.js';
