import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.poll_connect]` section after validation (defaults applied). */
export interface PollConnectConfig {
  /** Milliseconds allowed for connecting, authenticating and the query together. */
  timeout_ms: number;
  /** Database to connect to; empty means `[handyrep] handyrep_db`. */
  database: string;
}

/** JSON Schema of `[plugins.poll_connect]`. */
export const configSchema: ObjectSchema = {
  type: 'object',
  description: 'Poll by a real connection as the HandyRep superuser and `SELECT pg_is_in_recovery()`.',
  properties: {
    timeout_ms: {
      type: 'integer',
      minimum: 1,
      maximum: 600_000,
      default: 3000,
      description: 'Milliseconds allowed for the whole poll (connect, authenticate, query); a server silent that long is no_response.',
    },
    database: {
      type: 'string',
      default: '',
      description: 'Database to connect to; empty uses [handyrep] handyrep_db.',
    },
  },
  additionalProperties: false,
};
