import { recoveryConfirmSchemas } from '@handyrep/plugin-sdk';
import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.promote_sql]` section, defaults applied. */
export interface PromoteSqlConfig {
  /** `wait_seconds` argument of pg_promote(). */
  wait_seconds: number;
  /** Seconds for connecting and for each check; added to `wait_seconds` for pg_promote's statement time-out. */
  command_timeout_seconds: number;
  /** Seconds to keep checking `pg_is_in_recovery()` after pg_promote() returned true. */
  confirm_seconds: number;
  /** Milliseconds between two of those checks. */
  confirm_interval_ms: number;
}

/** JSON Schema of `[plugins.promote_sql]`. */
export const promoteSqlConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Promotion with SELECT pg_promote() over SQL (no SSH), confirmed over SQL.',
  properties: {
    wait_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3_600,
      default: 60,
      description: 'Seconds pg_promote(wait => true, wait_seconds => N) waits for the promotion to finish.',
    },
    command_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 600,
      default: 10,
      description: 'Seconds allowed to connect and for each check; the statement time-out of pg_promote() is wait_seconds plus this.',
    },
    ...recoveryConfirmSchemas('pg_promote() returns true'),
  },
  additionalProperties: false,
};
