import { definePlugin } from '@handyrep/plugin-sdk';
import { cloneRsyncConfigSchema, cloneRsyncServerSchema } from './config.js';
import type { CloneRsyncConfig } from './config.js';
import { cloneWithRsync } from './rsync-clone.js';

/** clone_rsync: replicas cloned by rsync from the source host inside an online base backup. */
export const plugin = definePlugin<'clone', CloneRsyncConfig>({
  kind: 'clone',
  name: 'clone_rsync',
  description: 'Clones a replica with rsync over SSH inside an online base backup (pg_backup_start/stop).',
  configSchema: cloneRsyncConfigSchema,
  serverSchema: cloneRsyncServerSchema,
  create: (context) => ({
    clone: (request) => cloneWithRsync(context, request),
  }),
});
