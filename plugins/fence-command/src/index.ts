export { plugin } from './plugin.js';
export { fenceCommandConfigSchema } from './config.js';
export type { FenceCommandConfig } from './config.js';
