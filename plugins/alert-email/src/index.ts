export { plugin } from './plugin.js';
export { alertEmailConfigSchema } from './config.js';
export type { AlertEmailConfig } from './config.js';
