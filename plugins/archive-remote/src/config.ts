import { ARCHIVE_SCRIPT_PATH_SCHEMA, ARCHIVER_QUERY_TIMEOUT_SCHEMA } from '@handyrep/plugin-sdk';
import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** `StrictHostKeyChecking` values the archive script may pass to ssh. */
export type HostKeyChecking = 'yes' | 'accept-new';

/** The `[plugins.archive_remote]` section, defaults applied. */
export interface ArchiveRemoteConfig {
  /** Where the archive script is written on the master; empty: `handyrep_archive.sh` in the parent of pgdata. */
  script_path: string;
  /** Whether each segment and the archive directory are fsynced on the archive host. */
  fsync: boolean;
  /** Longest one segment transfer may take inside archive_command before it is killed and retried. */
  copy_timeout_seconds: number;
  /** ssh ConnectTimeout of the master's connections to the archive host. */
  ssh_connect_timeout_seconds: number;
  /** Private key the master's ssh uses; empty: ssh's defaults for the OS user PostgreSQL runs as. */
  ssh_identity_file: string;
  /** known_hosts file the master's ssh checks the archive host against; empty: ssh's default. */
  ssh_known_hosts_file: string;
  /** `yes`: only known archive hosts; `accept-new`: record an unknown host key on first use. */
  strict_host_key_checking: HostKeyChecking;
  /** SSH time-out of each command HandyRep runs on the master (push, touch file), on top of which the check gets ssh_connect_timeout_seconds. */
  command_timeout_seconds: number;
  /** Connect and statement time-out of the `pg_stat_archiver` query of `poll`. */
  query_timeout_seconds: number;
}

/** JSON Schema of `[plugins.archive_remote]`. */
export const archiveRemoteConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'WAL archiving from the master to a directory on the archive server over SSH, through a pushed archive script and a no-archiving touch file.',
  properties: {
    script_path: ARCHIVE_SCRIPT_PATH_SCHEMA,
    fsync: {
      type: 'boolean',
      default: true,
      description: 'Flush each received segment (sync FILE) on the archive host before it is linked into place, and the archive directory after; off only for test systems.',
    },
    copy_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 120,
      description: 'Longest one segment transfer may take inside archive_command (GNU timeout on the master, when installed); a transfer that takes longer fails and PostgreSQL retries it.',
    },
    ssh_connect_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 600,
      default: 10,
      description: 'ssh ConnectTimeout of the master\'s connections to the archive host; ServerAliveInterval 5 s x 3 ends a connection that stops answering.',
    },
    ssh_identity_file: {
      type: 'string',
      default: '',
      pattern: '^(|/[^\\n\\r]*)$',
      description: 'Absolute path, on the master, of the private key ssh uses to reach the archive host (ssh -i, IdentitiesOnly). Empty: ssh\'s defaults for the OS user PostgreSQL runs as (~/.ssh/id_*).',
    },
    ssh_known_hosts_file: {
      type: 'string',
      default: '',
      pattern: '^(|/[^\\s"\'\\\\%]*)$',
      description: 'Absolute path, on the master, of the known_hosts file holding the archive host\'s key (ssh UserKnownHostsFile; no spaces, quotes, backslashes or %). Empty: ssh\'s default (~/.ssh/known_hosts).',
    },
    strict_host_key_checking: {
      type: 'string',
      enum: ['yes', 'accept-new'],
      default: 'yes',
      description: 'yes: the archive host\'s key must already be in known_hosts; accept-new: an unknown key is recorded on first use (a changed key is still refused).',
    },
    command_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3_600,
      default: 15,
      description: 'SSH time-out of each command HandyRep runs on the master (writing the script, the touch file); the archive host check gets ssh_connect_timeout_seconds more.',
    },
    query_timeout_seconds: ARCHIVER_QUERY_TIMEOUT_SCHEMA,
  },
  additionalProperties: false,
};
