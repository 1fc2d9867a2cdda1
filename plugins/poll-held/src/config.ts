import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.poll_held]` section after validation (defaults applied). */
export interface PollHeldConfig {
  /** Milliseconds allowed for one poll: the round trip on the held connection, or opening it and the round trip. */
  timeout_ms: number;
  /** Database to connect to; empty means `[handyrep] handyrep_db`. */
  database: string;
  /** Milliseconds of idleness before TCP keepalive probes start on a held connection. */
  keepalive_idle_ms: number;
  /** A connection not polled for this many seconds (its server disabled or removed) is closed. */
  unused_close_seconds: number;
}

/** JSON Schema of `[plugins.poll_held]`. */
export const configSchema: ObjectSchema = {
  type: 'object',
  description: 'Poll on one held connection per server: `SELECT pg_is_in_recovery()`, one round trip per poll.',
  properties: {
    timeout_ms: {
      type: 'integer',
      minimum: 1,
      maximum: 600_000,
      default: 2000,
      description:
        'Milliseconds allowed for one poll: the round trip on the held connection, or (first poll, or after a lost connection) connecting, authenticating and the round trip. A server silent that long is no_response/timeout, and its connection is closed.',
    },
    database: {
      type: 'string',
      default: '',
      description: 'Database to connect to; empty uses [handyrep] handyrep_db.',
    },
    keepalive_idle_ms: {
      type: 'integer',
      minimum: 1000,
      maximum: 3_600_000,
      default: 10_000,
      description: 'Milliseconds of idleness after which TCP keepalive probes start on a held connection, so one that dies between polls is noticed.',
    },
    unused_close_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 300,
      description: 'A held connection that no poll used for this long (its server disabled or removed from the registry) is closed.',
    },
  },
  additionalProperties: false,
};
