import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.restart_systemd]` section, defaults applied. */
export interface RestartSystemdConfig {
  /** Run state-changing systemctl commands as `sudo -n systemctl ...`. */
  use_sudo: boolean;
  /** The systemctl executable on the servers. */
  systemctl_path: string;
  /** Seconds allowed for start, stop, restart and for faststop's wait until the unit is down. */
  wait_seconds: number;
  /** Seconds allowed for quick commands (is-active, show, kill, reload); added to `wait_seconds` for waiting ones. */
  command_timeout_seconds: number;
}

/** The per-server keys this plugin adds. */
export interface RestartSystemdServerKeys {
  /** The systemd unit running this server's PostgreSQL. */
  systemd_unit: string;
}

/** JSON Schema of `[plugins.restart_systemd]`. */
export const restartSystemdConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Start, stop, restart, reload and status of PostgreSQL through its systemd unit, over SSH.',
  properties: {
    use_sudo: {
      type: 'boolean',
      default: true,
      description:
        'Run start, stop, kill, restart and reload as `sudo -n systemctl ...` (the SSH user needs a password-less sudoers rule for them). is-active and show never use sudo.',
    },
    systemctl_path: {
      type: 'string',
      minLength: 1,
      default: 'systemctl',
      description: 'The systemctl command on the servers (a name looked up in PATH, or an absolute path matching your sudoers rule).',
    },
    wait_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 60,
      description:
        'Seconds allowed for systemctl start, stop and restart (the SSH time-out is this plus command_timeout_seconds) and for faststop\'s wait until the unit is inactive.',
    },
    command_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3_600,
      default: 10,
      description: 'Seconds allowed for quick commands over SSH (is-active, show, kill, reload).',
    },
  },
  additionalProperties: false,
};

/** JSON Schema of the per-server keys (defaults go to `[server_defaults]`). */
export const restartSystemdServerSchema: ObjectSchema = {
  type: 'object',
  properties: {
    systemd_unit: {
      type: 'string',
      // Unit names: letters, digits and :-_.\@ ; never a leading '-' (it would read as an option).
      pattern: '^[A-Za-z0-9:_.\\\\@][A-Za-z0-9:_.\\\\@-]*$',
      default: 'postgresql@15-main',
      description: 'systemd unit of this server\'s PostgreSQL (restart_systemd), e.g. postgresql@15-main (Debian) or postgresql-15 (PGDG RPMs).',
    },
  },
  additionalProperties: false,
};
