export { plugin } from './plugin.js';
export { alertLogConfigSchema } from './config.js';
export type { AlertLogConfig } from './config.js';
