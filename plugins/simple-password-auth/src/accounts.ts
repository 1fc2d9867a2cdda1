import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import type { AccessLevel, Secrets } from '@handyrep/plugin-sdk';
import type { SimplePasswordAuthConfig } from './config.js';
import type { SecretDigester } from './secret-digest.js';

/** One password and the access it grants; only digests are kept. */
export interface Account {
  /** What the password grants. */
  access: AccessLevel;
  /** Digest of the required user name, or null when any user name will do. */
  user: Buffer | null;
  /** Digest of the password. */
  password: Buffer;
}

/**
 * Reads the configured passwords and returns the accounts, admin first.
 * Throws SECRET_MISSING naming the [passwords] key when one is absent or
 * empty: an empty password must never be a way in.
 */
export function loadAccounts(config: SimplePasswordAuthConfig, secrets: Secrets, digester: SecretDigester, pluginName: string): Account[] {
  const adminPassword = requirePassword(secrets, config.admin_password_key, 'admin', pluginName, '');
  const accounts: Account[] = [account('admin', config.admin_user, adminPassword, digester)];
  if (config.read_password_key !== '') {
    const readPassword = requirePassword(
      secrets,
      config.read_password_key,
      'read-only',
      pluginName,
      ` (or set [plugins.${pluginName}] read_password_key to an empty value to offer no read-only access)`,
    );
    if (readPassword === adminPassword) {
      throw new HandyRepError(
        ErrorCodes.PLUGIN_CONFIG_INVALID,
        `${pluginName}: [passwords] ${config.read_password_key} and ${config.admin_password_key} are the same password, so read-only callers would be admins; give them different passwords`,
      );
    }
    accounts.push(account('read', config.read_user, readPassword, digester));
  }
  return accounts;
}

function requirePassword(secrets: Secrets, key: string, role: string, pluginName: string, hint: string): string {
  const value = secrets.get(key);
  if (value === undefined || value === '') {
    throw new HandyRepError(
      ErrorCodes.SECRET_MISSING,
      `${pluginName}: the ${role} password [passwords] ${key} is ${value === undefined ? 'not set' : 'empty'}; set it${hint}. HandyRep will not accept an empty password.`,
    );
  }
  return value;
}

function account(access: AccessLevel, user: string, password: string, digester: SecretDigester): Account {
  return { access, user: user === '' ? null : digester.digest(user), password: digester.digest(password) };
}
