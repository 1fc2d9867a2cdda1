import { posix } from 'node:path';
import { BadArgumentError } from '@handyrep/plugin-sdk';
import type { ServerView, SettingsView } from '@handyrep/plugin-sdk';

/** Where cleanup runs and what it deletes. */
export interface CleanupTarget {
  /** The server whose directory is cleaned: `[archive] archive_server`, else the master. */
  server: string;
  /** `[archive] archive_directory`. */
  directory: string;
  /** `[archive] archive_delete_hours`. */
  hours: number;
}

/** Reads `[archive]`; throws BadArgumentError naming the setting that is missing or unusable. */
export function cleanupTarget(settings: SettingsView, servers: ServerView): CleanupTarget {
  const directory = settings.get('archive', 'archive_directory');
  if (typeof directory !== 'string' || directory === '') throw new BadArgumentError('[archive] archive_directory must be set to an absolute path');
  // A newline would make find's one-path-per-line output ambiguous.
  if (!posix.isAbsolute(directory) || /[\n\r\0]/.test(directory)) {
    throw new BadArgumentError(`[archive] archive_directory must be an absolute path without newlines, got ${JSON.stringify(directory)}`);
  }
  const hours = settings.get('archive', 'archive_delete_hours');
  if (typeof hours !== 'number' || !Number.isFinite(hours) || hours < 0) {
    throw new BadArgumentError(`[archive] archive_delete_hours must be a number of hours >= 0, got ${JSON.stringify(hours)}`);
  }
  const archiveServer = settings.get('archive', 'archive_server');
  let server: string;
  if (typeof archiveServer === 'string' && archiveServer !== '') {
    server = servers.get(archiveServer).name;
  } else {
    const master = servers.master();
    if (master === undefined) throw new BadArgumentError('no [archive] archive_server and no enabled master: nowhere to clean up');
    server = master.name;
  }
  return { server, directory, hours };
}
