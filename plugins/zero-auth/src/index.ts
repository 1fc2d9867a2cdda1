export { plugin } from './plugin.js';
export { zeroAuthConfigSchema } from './config.js';
export type { ZeroAuthConfig } from './config.js';
