import { definePlugin } from '@handyrep/plugin-sdk';
import { archiveLocalDirConfigSchema } from './config.js';
import type { ArchiveLocalDirConfig } from './config.js';
import { LocalDirArchive } from './local-dir-archive.js';

/** archive_local_dir: WAL archiving to a directory on the master host, switched by a touch file. */
export const plugin = definePlugin<'archive', ArchiveLocalDirConfig>({
  kind: 'archive',
  name: 'archive_local_dir',
  description: 'WAL archiving to a directory on the master host through a pushed archive script and a no-archiving touch file.',
  configSchema: archiveLocalDirConfigSchema,
  create: (context) => new LocalDirArchive(context),
});
