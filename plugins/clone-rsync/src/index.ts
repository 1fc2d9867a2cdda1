export { plugin } from './plugin.js';
export type { CloneRsyncConfig, CloneRsyncServerKeys } from './config.js';
