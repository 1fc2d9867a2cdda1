import { ErrorCodes, HandyRepError, trustedCas } from '@handyrep/plugin-sdk';
import type { Secrets } from '@handyrep/plugin-sdk';
import type { LdapAuthConfig } from './config.js';

/** Where the user name goes in the template and the filter. */
export const USERNAME_PLACEHOLDER = '{username}';

/** What the plugin needs besides its config, read and checked once at start. */
export interface LdapSettings {
  /** Trusted CAs (system ones plus `ca_file`), or undefined for Node's defaults. */
  ca: string[] | undefined;
  /** Service account password, when `bind_dn` is set. */
  bindPassword: string | undefined;
}

/**
 * Checks the combination of keys and reads the CA file and service password.
 * Throws PLUGIN_CONFIG_INVALID or SECRET_MISSING naming the key: a directory
 * set-up that cannot work stops HandyRep at start, never at the first login.
 */
export function ldapSettings(config: LdapAuthConfig, secrets: Secrets, section: string): LdapSettings {
  const invalid = (message: string): HandyRepError => new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `${section} ${message}`);
  const ldaps = config.url.toLowerCase().startsWith('ldaps://');
  if (ldaps && config.starttls) throw invalid('starttls: an ldaps:// url is encrypted already; use ldap:// with starttls = true, or drop starttls');
  if (!ldaps && !config.starttls && !config.allow_plaintext) {
    throw invalid('url: ldap:// without starttls would send passwords unencrypted; use ldaps://, set starttls = true, or (not for production) allow_plaintext = true');
  }
  if ((config.user_dn_template === '') === (config.search_base === '')) {
    throw invalid('user_dn_template / search_base: set exactly one (direct bind with a DN template, or search-then-bind)');
  }
  if (config.user_dn_template !== '' && !config.user_dn_template.includes(USERNAME_PLACEHOLDER)) {
    throw invalid(`user_dn_template: must contain ${USERNAME_PLACEHOLDER}`);
  }
  if (config.search_base !== '' && !(config.search_filter.startsWith('(') && config.search_filter.includes(USERNAME_PLACEHOLDER))) {
    throw invalid(`search_filter: must be a parenthesised filter containing ${USERNAME_PLACEHOLDER}`);
  }
  if (config.admin_group_dn === '' && config.read_group_dn === '' && config.default_access === 'none') {
    throw invalid('admin_group_dn / read_group_dn: set at least one group (or default_access), otherwise nobody can ever get access');
  }
  return { ca: config.ca_file === '' ? undefined : trustedCas(config.ca_file, section), bindPassword: bindPassword(config, secrets, section) };
}

function bindPassword(config: LdapAuthConfig, secrets: Secrets, section: string): string | undefined {
  if (config.bind_dn === '') return undefined;
  const password = secrets.get(config.bind_password_key);
  if (password === undefined || password === '') {
    // An empty password would make the service bind an unauthenticated (anonymous) one.
    throw new HandyRepError(
      ErrorCodes.SECRET_MISSING,
      `${section}: bind_dn is set but its password [passwords] ${config.bind_password_key} (bind_password_key) is ${password === undefined ? 'not set' : 'empty'}`,
    );
  }
  return password;
}
