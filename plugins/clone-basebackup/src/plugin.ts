import { definePlugin } from '@handyrep/plugin-sdk';
import { cloneWithBasebackup } from './basebackup-clone.js';
import { cloneBasebackupConfigSchema } from './config.js';
import type { CloneBasebackupConfig } from './config.js';
import { rewindWithPgRewind } from './rewind.js';

/** clone_basebackup: replicas cloned with pg_basebackup on the target; former masters rewound with pg_rewind. */
export const plugin = definePlugin<'clone', CloneBasebackupConfig>({
  kind: 'clone',
  name: 'clone_basebackup',
  description: 'Clones a replica with pg_basebackup (WAL streamed) and writes standby.signal and primary_conninfo; rewinds former masters with pg_rewind.',
  configSchema: cloneBasebackupConfigSchema,
  create: (context) => ({
    clone: (request) => cloneWithBasebackup(context, request),
    rewind: (request) => rewindWithPgRewind(context, request),
  }),
});
