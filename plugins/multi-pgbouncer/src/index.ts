export { plugin } from './plugin.js';
export type { AdminMethod, DisconnectMode, MultiPgbouncerConfig, PauseTimeoutAction, ProxyServerKeys } from './config.js';
export type { MultiPgbouncerResult, RepointResult } from './multi-pgbouncer.js';
export type { ProxyResult } from './proxy-actions.js';
