import type { JsonSchema } from './json-schema.js';

/** The two settings a promotion plugin hands to `confirmLeftRecovery` (as `confirmMs` / `intervalMs`). */
export interface RecoveryConfirmSchemas {
  /** `confirm_seconds`: how long to keep checking. */
  confirm_seconds: JsonSchema;
  /** `confirm_interval_ms`: the pause between two checks. */
  confirm_interval_ms: JsonSchema;
}

/**
 * JSON Schema of a promotion plugin's `confirm_seconds` and
 * `confirm_interval_ms` settings, the same bounds and defaults for every
 * plugin that confirms with `confirmLeftRecovery`. `after` names what the
 * checking follows in the plugin's own terms, e.g. `pg_ctl reports success`.
 * Spread the result into the config schema's `properties`.
 */
export function recoveryConfirmSchemas(after: string): RecoveryConfirmSchemas {
  return {
    confirm_seconds: {
      type: 'number',
      minimum: 0,
      maximum: 600,
      default: 10,
      description: `After ${after}, how long to keep checking that pg_is_in_recovery() is false before giving up with FAIL.`,
    },
    confirm_interval_ms: {
      type: 'integer',
      minimum: 10,
      maximum: 10_000,
      default: 200,
      description: 'Milliseconds between two pg_is_in_recovery() checks.',
    },
  };
}
