import { definePlugin } from '@handyrep/plugin-sdk';
import { configSchema, serverSchema } from './config.js';
import type { ReplicationMbLagConfig } from './config.js';
import { measureLag } from './lag.js';
import { readPosition } from './position.js';

/** `replication_mb_lag`: replica lag from pg_stat_replication on the master, WAL positions read on each replica. */
export const plugin = definePlugin<'replication_status', ReplicationMbLagConfig>({
  kind: 'replication_status',
  name: 'replication_mb_lag',
  description: 'Replica lag in MB from pg_stat_replication on the master, and WAL positions and WAL receiver state read on each replica.',
  configSchema,
  serverSchema,
  create(context) {
    return {
      lag: (master, replica) => measureLag(context, master, replica),
      position: (replica) => readPosition(context, replica),
    };
  },
});
