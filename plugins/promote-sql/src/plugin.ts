import { definePlugin } from '@handyrep/plugin-sdk';
import { promoteSqlConfigSchema } from './config.js';
import type { PromoteSqlConfig } from './config.js';
import { SqlPromotion } from './sql-promotion.js';

/** promote_sql: promotes a replica with pg_promote() over SQL (no SSH), confirming it left recovery. */
export const plugin = definePlugin<'promotion', PromoteSqlConfig>({
  kind: 'promotion',
  name: 'promote_sql',
  description: 'Promotes a replica with pg_promote() over SQL (no SSH), confirming it left recovery.',
  configSchema: promoteSqlConfigSchema,
  create: (context) => new SqlPromotion(context),
});
