import { definePlugin } from '@handyrep/plugin-sdk';
import { archiveDeleteFindConfigSchema } from './config.js';
import type { ArchiveDeleteFindConfig } from './config.js';
import { FindCleanup } from './find-cleanup.js';

/** archive_delete_find: deletes expired WAL segments from the archive with find, and nothing else. */
export const plugin = definePlugin<'archive_cleanup', ArchiveDeleteFindConfig>({
  kind: 'archive_cleanup',
  name: 'archive_delete_find',
  description: 'Deletes WAL segments older than the configured age from the archive, touching nothing else.',
  configSchema: archiveDeleteFindConfigSchema,
  create: (context) => new FindCleanup(context),
});
