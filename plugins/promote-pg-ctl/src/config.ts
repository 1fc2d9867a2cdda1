import { recoveryConfirmSchemas } from '@handyrep/plugin-sdk';
import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.promote_pg_ctl]` section, defaults applied. */
export interface PromotePgCtlConfig {
  /** Seconds pg_ctl promote waits for the promotion (`-w -t`). */
  wait_seconds: number;
  /** Seconds for each SQL check (connect and statement) and added to `wait_seconds` for the SSH time-out. */
  command_timeout_seconds: number;
  /** Seconds to keep checking `pg_is_in_recovery()` after pg_ctl reported success. */
  confirm_seconds: number;
  /** Milliseconds between two of those checks. */
  confirm_interval_ms: number;
}

/** JSON Schema of `[plugins.promote_pg_ctl]`. */
export const promotePgCtlConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Promotion with pg_ctl promote over SSH, confirmed over SQL.',
  properties: {
    wait_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3_600,
      default: 60,
      description: 'Seconds pg_ctl promote waits for the server to finish promoting (pg_ctl promote -w -t).',
    },
    command_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 600,
      default: 10,
      description:
        'Seconds allowed for each SQL check (connect and statement time-out); the SSH time-out of pg_ctl promote is wait_seconds plus this.',
    },
    ...recoveryConfirmSchemas('pg_ctl reports success'),
  },
  additionalProperties: false,
};
