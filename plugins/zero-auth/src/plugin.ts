import { definePlugin } from '@handyrep/plugin-sdk';
import { zeroAuthConfigSchema } from './config.js';
import type { ZeroAuthConfig } from './config.js';
import { createZeroAuth } from './zero-auth.js';

/** `authentication_method = zero_auth`: no authentication at all (loopback only; tests and a local sandbox). */
export const plugin = definePlugin<'authentication', ZeroAuthConfig>({
  kind: 'authentication',
  name: 'zero_auth',
  description: 'No authentication: every caller may do everything (loopback addresses only; for tests and a local sandbox).',
  configSchema: zeroAuthConfigSchema,
  create(context) {
    return createZeroAuth(context);
  },
});
