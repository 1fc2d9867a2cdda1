import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.fence_shutdown]` section, defaults applied. */
export interface FenceShutdownConfig {
  /** Bound on the control plugin's immediate stop, in milliseconds. */
  stop_timeout_ms: number;
  /** How long to keep looking for proof that the server is down after the stop, in milliseconds. */
  confirm_timeout_ms: number;
  /** Pause between two confirmation checks, in milliseconds. */
  confirm_interval_ms: number;
  /** Bound on each check (the control plugin's status call, the PostgreSQL connection attempt), in milliseconds. */
  check_timeout_ms: number;
  /** When the immediate stop fails or times out, SIGKILL the verified postmaster and its children over SSH. */
  kill_hung_postmaster: boolean;
}

/** JSON Schema of `[plugins.fence_shutdown]`. */
export const fenceShutdownConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Fencing by an immediate stop through the server\'s own control plugin, confirmed before it counts.',
  properties: {
    stop_timeout_ms: {
      type: 'integer',
      minimum: 100,
      default: 20_000,
      description: 'Milliseconds allowed for the control plugin\'s immediate stop (faststop). A stop that takes longer is abandoned and the confirmation checks decide.',
    },
    confirm_timeout_ms: {
      type: 'integer',
      minimum: 0,
      default: 10_000,
      description: 'Milliseconds to keep checking, after the stop, for proof that the server is down before giving up with fenced = false.',
    },
    confirm_interval_ms: {
      type: 'integer',
      minimum: 10,
      default: 250,
      description: 'Milliseconds between two confirmation checks.',
    },
    check_timeout_ms: {
      type: 'integer',
      minimum: 100,
      default: 3_000,
      description: 'Milliseconds allowed for each check: the control plugin\'s status call and the PostgreSQL connection attempt (connect and statement time-out).',
    },
    kill_hung_postmaster: {
      type: 'boolean',
      default: true,
      description:
        'When the immediate stop fails or times out (e.g. a SIGSTOPped, hung postmaster), read the PID from <pgdata>/postmaster.pid over SSH, check that it is the postgres postmaster of that data directory, and SIGKILL it and its descendants.',
    },
  },
  additionalProperties: false,
};
