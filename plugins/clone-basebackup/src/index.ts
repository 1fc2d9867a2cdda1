export { plugin } from './plugin.js';
export type { CloneBasebackupConfig } from './config.js';
