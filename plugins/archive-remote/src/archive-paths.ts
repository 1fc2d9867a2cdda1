import { posix } from 'node:path';
import { BadArgumentError, shellQuote } from '@handyrep/plugin-sdk';
import type { ServerDefinition, SettingsView } from '@handyrep/plugin-sdk';
import { DEFAULT_SCRIPT_NAME, DEFAULT_TOUCH_FILE_NAME } from './config.js';

/** The files and directory archiving on one master uses. */
export interface ArchivePaths {
  /** The archive script PostgreSQL's archive_command runs. */
  scriptPath: string;
  /** While this file exists the script reports success without copying. */
  touchFile: string;
  /** Where segments are copied to. */
  archiveDirectory: string;
}

// A newline would break the one-path-per-line output the cleanup and the script's messages rely on.
const UNUSABLE = /[\n\r\0]/;

/** An absolute, single-line path from a setting; throws BadArgumentError naming the setting otherwise. */
export function absolutePath(what: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new BadArgumentError(`${what} must be set to an absolute path`);
  if (!posix.isAbsolute(value)) throw new BadArgumentError(`${what} must be an absolute path, got ${JSON.stringify(value)}`);
  if (UNUSABLE.test(value)) throw new BadArgumentError(`${what} must not contain a newline or NUL, got ${JSON.stringify(value)}`);
  return posix.normalize(value);
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
    scriptPath = posix.join(posix.dirname(pgdata), DEFAULT_SCRIPT_NAME);
  }
  const touchSetting = settings.get('archive', 'archive_touch_file');
  const touchFile =
    touchSetting === undefined || touchSetting === ''
      ? posix.join(posix.dirname(scriptPath), DEFAULT_TOUCH_FILE_NAME)
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
