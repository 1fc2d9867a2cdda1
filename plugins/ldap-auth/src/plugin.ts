import { definePlugin } from '@handyrep/plugin-sdk';
import { ldapAuthConfigSchema } from './config.js';
import type { LdapAuthConfig } from './config.js';
import { createLdapAuth } from './ldap-auth.js';

/** `authentication_method = ldap_auth`. */
export const plugin = definePlugin<'authentication', LdapAuthConfig>({
  kind: 'authentication',
  name: 'ldap_auth',
  description: 'Authenticates web API callers by LDAP bind and group membership.',
  configSchema: ldapAuthConfigSchema,
  create(context) {
    return createLdapAuth(context);
  },
});
