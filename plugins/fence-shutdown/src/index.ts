export { plugin } from './plugin.js';
export { fenceShutdownConfigSchema } from './config.js';
export type { FenceShutdownConfig } from './config.js';
