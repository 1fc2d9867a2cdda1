import { posix } from 'node:path';
import type { SettingsView } from '../capabilities/settings-view.js';
import { absolutePath } from '../helpers/absolute-path.js';
import type { ServerDefinition } from '../server-definition.js';
import { shellQuote } from '../shell-quote.js';

/** Name of the archive script written beside pgdata when a plugin's `script_path` is empty. */
export const DEFAULT_ARCHIVE_SCRIPT_NAME = 'handyrep_archive.sh';

/** Name of the no-archiving touch file beside the script when `[archive] archive_touch_file` is empty. */
export const DEFAULT_ARCHIVE_TOUCH_FILE_NAME = 'handyrep_noarchiving';

/** The files and directory archiving on one master uses. */
export interface ArchivePaths {
  /** The archive script PostgreSQL's archive_command runs. */
  scriptPath: string;
  /** While this file exists the script reports success without copying. */
  touchFile: string;
  /** Where segments are copied to. */
  archiveDirectory: string;
}

/**
 * Resolves the script, touch file and archive directory for `master` from
 * `[archive]` and the plugin's `script_path`. Defaults live beside pgdata, not
 * in it: pg_basebackup would copy them to every replica.
 */
export function archivePaths(settings: SettingsView, scriptPathSetting: string, master: Readonly<ServerDefinition>): ArchivePaths {
  const archiveDirectory = absolutePath('[archive] archive_directory', settings.get('archive', 'archive_directory'));
  let scriptPath: string;
  if (scriptPathSetting !== '') {
    scriptPath = absolutePath('script_path', scriptPathSetting);
  } else {
    const pgdata = absolutePath(`pgdata of server ${master.name}`, master['pgdata']);
    scriptPath = posix.join(posix.dirname(pgdata), DEFAULT_ARCHIVE_SCRIPT_NAME);
  }
  const touchSetting = settings.get('archive', 'archive_touch_file');
  const touchFile =
    touchSetting === undefined || touchSetting === ''
      ? posix.join(posix.dirname(scriptPath), DEFAULT_ARCHIVE_TOUCH_FILE_NAME)
      : absolutePath('[archive] archive_touch_file', touchSetting);
  return { scriptPath, touchFile, archiveDirectory };
}

/**
 * The archive_command line for `scriptPath`. PostgreSQL expands `%` escapes
 * before the shell sees the line, so a literal `%` in the path is doubled.
 */
export function archiveCommandFor(scriptPath: string): string {
  return `${shellQuote(scriptPath).replace(/%/g, '%%')} %p %f`;
}
