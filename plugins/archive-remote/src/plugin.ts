import { definePlugin } from '@handyrep/plugin-sdk';
import { archiveRemoteConfigSchema } from './config.js';
import type { ArchiveRemoteConfig } from './config.js';
import { RemoteArchive } from './remote-archive.js';

/** archive_remote: WAL archiving from the master to the archive server over ssh, switched by a touch file. */
export const plugin = definePlugin<'archive', ArchiveRemoteConfig>({
  kind: 'archive',
  name: 'archive_remote',
  description: 'WAL archiving from the master to a directory on the archive server over SSH, through a pushed archive script and a no-archiving touch file.',
  configSchema: archiveRemoteConfigSchema,
  create: (context) => new RemoteArchive(context),
});
