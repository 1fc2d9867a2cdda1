export { plugin, createHrMasterEtcd } from './plugin.js';
export { hrMasterEtcdConfigSchema, resolveSettings } from './config.js';
export type { HrMasterEtcdConfig, ResolvedSettings } from './config.js';
export { EtcdElection } from './election.js';
export type { EtcdStore, KeyInfo, WatchEvent, WatchHandle, CreateOutcome } from './store.js';
