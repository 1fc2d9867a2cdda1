import type { JsonSchema } from '../json-schema.js';
import { DEFAULT_ARCHIVE_SCRIPT_NAME } from './archive-paths.js';

/** JSON Schema of an archive plugin's `script_path` setting, as `archivePaths` reads it. */
export const ARCHIVE_SCRIPT_PATH_SCHEMA: JsonSchema = {
  type: 'string',
  default: '',
  pattern: '^(|/[^\\n\\r]*[^/\\n\\r])$',
  description:
    `Absolute path of the archive script on the master (archive_command = '<script_path> %p %f'). Empty: ${DEFAULT_ARCHIVE_SCRIPT_NAME} in the parent directory of the master's pgdata, outside pgdata so clones do not copy it.`,
};

/** JSON Schema of an archive plugin's `query_timeout_seconds` setting, the time-outs `ArchiverMonitor.poll` gets. */
export const ARCHIVER_QUERY_TIMEOUT_SCHEMA: JsonSchema = {
  type: 'number',
  exclusiveMinimum: 0,
  maximum: 600,
  default: 5,
  description: 'Connect time-out and statement time-out of the pg_stat_archiver query poll runs on the master.',
};

/**
 * Archive script lines: exit 2 with a usage message unless called with the
 * two arguments archive_command passes (%p %f).
 */
export const ARCHIVE_SCRIPT_USAGE_CHECK = [
  'if [ "$#" -ne 2 ]; then',
  "  printf 'usage: %s <path of the WAL file> <its file name>  (archive_command = %s %%p %%f)\\n' \"$0\" \"$0\" >&2",
  '  exit 2',
  'fi',
].join('\n');
