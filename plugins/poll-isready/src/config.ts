import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.poll_isready]` section after validation (defaults applied). */
export interface PollIsreadyConfig {
  /** Milliseconds allowed for the whole check: name lookup, TCP connect and the server's first answer. */
  timeout_ms: number;
  /** Role named in the startup message; empty means `[handyrep] postgres_superuser`. */
  user: string;
  /** Database named in the startup message; empty means `[handyrep] handyrep_db`. */
  database: string;
}

/** JSON Schema of `[plugins.poll_isready]`. */
export const configSchema: ObjectSchema = {
  type: 'object',
  description: 'Readiness check in the sense of pg_isready, done natively over TCP without spawning a process.',
  properties: {
    timeout_ms: {
      type: 'integer',
      minimum: 1,
      maximum: 600_000,
      default: 2000,
      description: 'Milliseconds allowed for the whole check (name lookup, TCP connect, first answer); a server silent that long is no_response.',
    },
    user: {
      type: 'string',
      default: '',
      description:
        'Role named in the startup message; empty uses [handyrep] postgres_superuser. An existing role keeps the server log quiet under trust authentication.',
    },
    database: {
      type: 'string',
      default: '',
      description: 'Database named in the startup message; empty uses [handyrep] handyrep_db.',
    },
  },
  additionalProperties: false,
};
