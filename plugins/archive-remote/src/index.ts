export { plugin } from './plugin.js';
export type { ArchiveRemoteConfig } from './config.js';
