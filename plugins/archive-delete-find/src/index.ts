export { plugin } from './plugin.js';
export type { ArchiveDeleteFindConfig } from './config.js';
