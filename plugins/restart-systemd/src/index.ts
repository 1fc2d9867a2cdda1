export { plugin } from './plugin.js';
export type { RestartSystemdConfig, RestartSystemdServerKeys } from './config.js';
