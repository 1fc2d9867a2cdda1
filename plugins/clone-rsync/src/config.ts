import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.clone_rsync]` section, defaults applied. */
export interface CloneRsyncConfig {
  /** Seconds the rsync of the data directory may run (and the backup statements may wait). */
  timeout_seconds: number;
  /** Seconds allowed for quick commands (probe, emptying, writing files). */
  command_timeout_seconds: number;
  /** `fast` makes pg_backup_start checkpoint at once; `spread` waits for a regular checkpoint. */
  checkpoint: 'fast' | 'spread';
  /** pg_backup_stop(wait_for_archive): wait until the backup's WAL is archived (when archiving is on). */
  wait_for_archive: boolean;
  /** rsync --bwlimit in KiB/s; 0 means unlimited. */
  bwlimit_kbps: number;
  /** Private key on the source host for its SSH login to the target; empty uses ssh's defaults. */
  ssh_key: string;
  /** known_hosts file on the source host; empty uses ssh's defaults. */
  known_hosts: string;
  /** ssh StrictHostKeyChecking for the source-to-target connection. */
  strict_host_key_checking: 'yes' | 'accept-new';
  /** Passfile the new replica reads its replication password from; relative to pgdata; empty writes none. */
  replication_passfile: string;
}

/** Per-server keys of clone_rsync. */
export interface CloneRsyncServerKeys {
  /** This server's key for logging in to targets when it is the source; overrides `ssh_key`. */
  rsync_ssh_key: string;
  /** This server's known_hosts when it is the source; overrides `known_hosts`. */
  rsync_known_hosts: string;
}

/**
 * A path handed to ssh inside rsync's -e option: no whitespace or quotes
 * (rsync splits -e on spaces; ssh reads several known_hosts files from one
 * whitespace-separated value) and no % (ssh expands %-tokens in these paths).
 */
const SSH_PATH_PATTERN = '^[^\\s\'"\\\\%]*$';

/** JSON Schema of `[plugins.clone_rsync]`. */
export const cloneRsyncConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Clones replicas by rsync from the source host to the target inside pg_backup_start/pg_backup_stop.',
  properties: {
    timeout_seconds: {
      type: 'integer',
      minimum: 10,
      maximum: 604_800,
      default: 3600,
      description:
        'Seconds the rsync of the data directory may run before it is killed on the source (coreutils timeout); also the statement time-out of pg_backup_start and pg_backup_stop. A FAIL removes the partial copy.',
    },
    command_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3600,
      default: 30,
      description: 'Seconds allowed for each quick SSH command: probing and emptying the data directory, copying pg_control, writing backup_label and the standby settings.',
    },
    checkpoint: {
      type: 'string',
      enum: ['fast', 'spread'],
      default: 'fast',
      description: 'pg_backup_start(label, fast): fast checkpoints at once so the copy starts immediately; spread waits for the next regular checkpoint.',
    },
    wait_for_archive: {
      type: 'boolean',
      default: true,
      description:
        'pg_backup_stop(wait_for_archive): with WAL archiving on, wait until every WAL segment the backup needs is archived. Without archiving it returns at once.',
    },
    bwlimit_kbps: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'rsync --bwlimit in KiB/s for the copy; 0 means unlimited.',
    },
    ssh_key: {
      type: 'string',
      pattern: SSH_PATH_PATTERN,
      default: '',
      description:
        'Private key ON THE SOURCE HOST that its SSH user logs in to the target with (rsync runs on the source and pushes). Empty: ssh\'s defaults (~/.ssh/id_*). A server\'s rsync_ssh_key overrides it. No spaces, quotes or %.',
    },
    known_hosts: {
      type: 'string',
      pattern: SSH_PATH_PATTERN,
      default: '',
      description: 'known_hosts file ON THE SOURCE HOST holding the targets\' host keys. Empty: ssh\'s defaults (~/.ssh/known_hosts). A server\'s rsync_known_hosts overrides it.',
    },
    strict_host_key_checking: {
      type: 'string',
      enum: ['yes', 'accept-new'],
      default: 'yes',
      description: 'StrictHostKeyChecking of the source-to-target SSH connection: yes needs the target\'s key in known_hosts; accept-new records an unknown key on first use (never a changed one).',
    },
    replication_passfile: {
      type: 'string',
      pattern: '^[^\\x00-\\x1f]*$',
      default: 'handyrep-replication.pgpass',
      description:
        'Password file (0600, "*:*:*:<replication_user>:<password>") written on the new replica and named in its primary_conninfo as passfile=. Relative to pgdata. Empty: no password is written (the replica must authenticate another way).',
    },
  },
  additionalProperties: false,
};

/** JSON Schema of clone_rsync's per-server keys. */
export const cloneRsyncServerSchema: ObjectSchema = {
  type: 'object',
  properties: {
    rsync_ssh_key: {
      type: 'string',
      pattern: SSH_PATH_PATTERN,
      default: '',
      description: 'clone_rsync: private key on this server used when it is the source of a clone; empty uses [plugins.clone_rsync] ssh_key.',
    },
    rsync_known_hosts: {
      type: 'string',
      pattern: SSH_PATH_PATTERN,
      default: '',
      description: 'clone_rsync: known_hosts file on this server used when it is the source of a clone; empty uses [plugins.clone_rsync] known_hosts.',
    },
  },
  additionalProperties: false,
};
