import { ARCHIVE_SCRIPT_PATH_SCHEMA, ARCHIVER_QUERY_TIMEOUT_SCHEMA } from '@handyrep/plugin-sdk';
import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.archive_local_dir]` section, defaults applied. */
export interface ArchiveLocalDirConfig {
  /** Where the archive script is written on the master; empty: `handyrep_archive.sh` in the parent of pgdata. */
  script_path: string;
  /** Whether the script fsyncs each copied segment and the archive directory. */
  fsync: boolean;
  /** Longest one segment copy may take inside archive_command before it is killed and retried. */
  copy_timeout_seconds: number;
  /** SSH time-out of HandyRep's own commands on the master (push, check, touch file). */
  command_timeout_seconds: number;
  /** Connect and statement time-out of the `pg_stat_archiver` query of `poll`. */
  query_timeout_seconds: number;
}

/** JSON Schema of `[plugins.archive_local_dir]`. */
export const archiveLocalDirConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'WAL archiving to a directory on the master host through a pushed archive script and a no-archiving touch file.',
  properties: {
    script_path: ARCHIVE_SCRIPT_PATH_SCHEMA,
    fsync: {
      type: 'boolean',
      default: true,
      description: 'Flush each copied segment (sync FILE) before it is linked into place, and the archive directory after; off only for test systems.',
    },
    copy_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 120,
      description: 'Longest one segment copy may take inside archive_command (GNU timeout, when installed); a copy that takes longer fails and PostgreSQL retries it.',
    },
    command_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3_600,
      default: 15,
      description: 'SSH time-out of each command HandyRep runs on the master (writing the script, checking the directory, the touch file).',
    },
    query_timeout_seconds: ARCHIVER_QUERY_TIMEOUT_SCHEMA,
  },
  additionalProperties: false,
};
