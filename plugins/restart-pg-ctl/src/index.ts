export { plugin } from './plugin.js';
export type { RestartPgCtlConfig } from './config.js';
