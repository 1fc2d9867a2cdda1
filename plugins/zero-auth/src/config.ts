import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.zero_auth]` section: it has no keys. */
export type ZeroAuthConfig = Record<string, never>;

/** JSON Schema of `[plugins.zero_auth]`: empty, so a misplaced key is an error rather than a silent no-op. */
export const zeroAuthConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'NO authentication: every caller of the web API is admin. The daemon then listens and answers on loopback addresses only; for tests and a local sandbox.',
  properties: {},
  additionalProperties: false,
};
