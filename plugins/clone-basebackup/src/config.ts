import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.clone_basebackup]` section, defaults applied. */
export interface CloneBasebackupConfig {
  /** Seconds pg_basebackup may run (enforced on the target with `timeout`, and on the SSH channel). */
  timeout_seconds: number;
  /** Seconds allowed for quick commands (probe, emptying, writing the standby settings, du). */
  command_timeout_seconds: number;
  /** pg_basebackup `-c`: `fast` asks the source for an immediate checkpoint, `spread` waits for a normal one. */
  checkpoint: 'fast' | 'spread';
  /** pg_basebackup `-r` (e.g. `50M`, `800k`); empty means no limit. */
  max_rate: string;
  /** Passfile the new replica reads its replication password from; relative to pgdata; empty writes none. */
  replication_passfile: string;
  /** Seconds pg_rewind may run. */
  rewind_timeout_seconds: number;
  /** pg_rewind `--restore-target-wal`: fetch missing old WAL with the target's restore_command. */
  rewind_restore_target_wal: boolean;
}

/** The default `replication_passfile`: inside pgdata, so every clone carries its own. */
export const DEFAULT_PASSFILE = 'handyrep-replication.pgpass';

/** JSON Schema of `[plugins.clone_basebackup]`. */
export const cloneBasebackupConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Clones replicas with pg_basebackup run on the target over SSH; rewinds former masters with pg_rewind.',
  properties: {
    timeout_seconds: {
      type: 'integer',
      minimum: 10,
      maximum: 604_800,
      default: 3600,
      description:
        'Seconds pg_basebackup may run before it is killed on the target (coreutils timeout) and the clone is a FAIL with the partial copy removed. Size it for the largest data directory.',
    },
    command_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3600,
      default: 30,
      description: 'Seconds allowed for each quick SSH command: probing and emptying the data directory, writing the standby settings, measuring the copy.',
    },
    checkpoint: {
      type: 'string',
      enum: ['fast', 'spread'],
      default: 'fast',
      description: 'pg_basebackup -c: fast requests an immediate checkpoint on the source (the copy starts at once); spread waits for the next regular one.',
    },
    max_rate: {
      type: 'string',
      pattern: '^([1-9][0-9]*[kM]?)?$',
      default: '',
      description: 'pg_basebackup -r: transfer rate limit in kB/s, or with suffix k or M (e.g. 50M). Empty: no limit.',
    },
    replication_passfile: {
      type: 'string',
      // The path becomes a libpq passfile= value and a file name: no control characters.
      pattern: '^[^\\x00-\\x1f]*$',
      default: DEFAULT_PASSFILE,
      description:
        'Password file (0600, "*:*:*:<replication_user>:<password>") written on the new replica and named in its primary_conninfo as passfile=, so the password is in neither the command line nor primary_conninfo. Relative to pgdata. Empty: no password is written and the replica must authenticate another way (~/.pgpass, certificates, trust).',
    },
    rewind_timeout_seconds: {
      type: 'integer',
      minimum: 10,
      maximum: 604_800,
      default: 1800,
      description: 'Seconds pg_rewind may run before it is killed on the target and the rewind is a FAIL (the data directory must then be recloned).',
    },
    rewind_restore_target_wal: {
      type: 'boolean',
      default: false,
      description:
        'pg_rewind --restore-target-wal: when the old master no longer has its WAL back to the last common checkpoint, fetch it with the restore_command of its configuration (needs a WAL archive).',
    },
  },
  additionalProperties: false,
};
