import { definePlugin } from '@handyrep/plugin-sdk';
import { simplePasswordAuthConfigSchema } from './config.js';
import type { SimplePasswordAuthConfig } from './config.js';
import { createSimplePasswordAuth } from './simple-password-auth.js';

/** `authentication_method = simple_password_auth`. */
export const plugin = definePlugin<'authentication', SimplePasswordAuthConfig>({
  kind: 'authentication',
  name: 'simple_password_auth',
  description: 'Admin and read-only passwords from [passwords], compared in constant time.',
  configSchema: simplePasswordAuthConfigSchema,
  create(context) {
    return createSimplePasswordAuth(context);
  },
});
