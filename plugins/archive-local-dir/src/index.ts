export { plugin } from './plugin.js';
export type { ArchiveLocalDirConfig } from './config.js';
