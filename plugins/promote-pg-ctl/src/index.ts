export { plugin } from './plugin.js';
export type { PromotePgCtlConfig } from './config.js';
export type { PromoteFields, PromoteResult } from './pg-ctl-promotion.js';
