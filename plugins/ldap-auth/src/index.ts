export { plugin } from './plugin.js';
export { ldapAuthConfigSchema } from './config.js';
export type { LdapAuthConfig } from './config.js';
