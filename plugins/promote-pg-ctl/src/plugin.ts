import { definePlugin } from '@handyrep/plugin-sdk';
import { promotePgCtlConfigSchema } from './config.js';
import type { PromotePgCtlConfig } from './config.js';
import { PgCtlPromotion } from './pg-ctl-promotion.js';

/** promote_pg_ctl: promotes a replica with pg_ctl promote over SSH, confirming over SQL that it left recovery. */
export const plugin = definePlugin<'promotion', PromotePgCtlConfig>({
  kind: 'promotion',
  name: 'promote_pg_ctl',
  description: 'Promotes a replica with pg_ctl promote over SSH, confirming over SQL that it left recovery.',
  configSchema: promotePgCtlConfigSchema,
  create: (context) => new PgCtlPromotion(context),
});
