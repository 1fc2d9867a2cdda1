export { plugin } from './plugin.js';
export type { PromoteSqlConfig } from './config.js';
export type { PromoteSqlFields, PromoteSqlResult } from './sql-promotion.js';
