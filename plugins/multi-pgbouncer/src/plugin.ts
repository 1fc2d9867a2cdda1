import { definePlugin } from '@handyrep/plugin-sdk';
import { configSchema, serverSchema } from './config.js';
import type { MultiPgbouncerConfig } from './config.js';
import { MultiPgbouncer } from './multi-pgbouncer.js';

/** multi_pgbouncer: points every pgbouncer at the master (and the best replica) over SSH and its admin console. */
export const plugin = definePlugin<'connection_failover', MultiPgbouncerConfig>({
  kind: 'connection_failover',
  name: 'multi_pgbouncer',
  description:
    'Points every pgbouncer at the master (and the best replica) over SSH and its admin console, pausing clients around a switch.',
  configSchema,
  serverSchema,
  create: (context) => new MultiPgbouncer(context),
});
