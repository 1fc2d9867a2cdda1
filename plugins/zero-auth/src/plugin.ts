import { definePlugin } from '@handyrep/plugin-sdk';
import { zeroAuthConfigSchema } from './config.js';
import type { ZeroAuthConfig } from './config.js';
import { createZeroAuth } from './zero-auth.js';

/** `authentication_method = zero_auth`: no authentication at all (trusted networks and tests only). */
export const plugin = definePlugin<'authentication', ZeroAuthConfig>({
  kind: 'authentication',
  name: 'zero_auth',
  description: 'No authentication: every caller may do everything (for trusted networks and tests only).',
  configSchema: zeroAuthConfigSchema,
  create(context) {
    return createZeroAuth(context);
  },
});
