export { plugin } from './plugin.js';
export { oneHrMasterConfigSchema } from './config.js';
export type { OneHrMasterConfig } from './config.js';
