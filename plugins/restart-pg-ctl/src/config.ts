import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.restart_pg_ctl]` section, defaults applied. */
export interface RestartPgCtlConfig {
  /** Seconds pg_ctl waits for start, stop and restart to finish (`pg_ctl -w -t`). */
  wait_seconds: number;
  /** Seconds allowed for quick commands (status, reload); added to `wait_seconds` for the SSH time-out of waiting commands. */
  command_timeout_seconds: number;
  /** Log file for `pg_ctl start -l`; a relative path is taken relative to the server's pgdata. */
  log_file: string;
}

/** The default `log_file`: beside the logging collector's files, in pgdata's `log/` directory. */
export const DEFAULT_LOG_FILE = 'log/handyrep-pg_ctl.log';

/** JSON Schema of `[plugins.restart_pg_ctl]`. */
export const restartPgCtlConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Start, stop, restart, reload and status of PostgreSQL with pg_ctl over SSH.',
  properties: {
    wait_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 60,
      description: 'Seconds pg_ctl waits for start, stop and restart to complete (pg_ctl -w -t). A stop or start that takes longer is reported as FAIL.',
    },
    command_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3_600,
      default: 10,
      description:
        'Seconds allowed for quick commands (status, reload) over SSH; waiting commands get wait_seconds plus this, so the SSH time-out always outlasts pg_ctl\'s own.',
    },
    log_file: {
      type: 'string',
      minLength: 1,
      default: DEFAULT_LOG_FILE,
      description:
        'Where the server\'s output goes when this plugin starts it (pg_ctl start -l). A relative path is relative to the server\'s pgdata; its directory is created when missing.',
    },
  },
  additionalProperties: false,
};
