export { plugin } from './plugin.js';
export type { LagPosition, ReplicationMbLagConfig } from './config.js';
export type { LagExtra, LagResult } from './lag.js';
export type { PositionExtra, PositionResult } from './position.js';
