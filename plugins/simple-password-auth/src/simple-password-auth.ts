import type { AuthDecision, AuthenticationPlugin, Credentials, PluginContext } from '@handyrep/plugin-sdk';
import { loadAccounts } from './accounts.js';
import type { Account } from './accounts.js';
import type { SimplePasswordAuthConfig } from './config.js';
import { SecretDigester } from './secret-digest.js';

/** Longest user name quoted in a log line; user names are untrusted input. */
const LOGGED_USER_CHARS = 64;

/** The `simple_password_auth` instance. Throws at creation when a configured password is missing. */
export function createSimplePasswordAuth(context: PluginContext<SimplePasswordAuthConfig>): AuthenticationPlugin {
  const digester = new SecretDigester();
  const accounts = loadAccounts(context.config, context.secrets, digester, context.name);

  return {
    async authenticate(credentials: Credentials): Promise<AuthDecision> {
      const user = digester.digest(String(credentials.username ?? ''));
      const password = digester.digest(String(credentials.password ?? ''));
      // Every account is compared in full, whichever matches, so the time taken says nothing about which one did.
      const matches = accounts.map((candidate) => matchesAccount(candidate, user, password));
      const granted = accounts.find((_, index) => matches[index]);
      if (granted) {
        context.logger.debug(`${granted.access} access granted`, { username: quoted(credentials.username) });
        return { authenticated: true, access: granted.access, details: `password accepted: ${granted.access} access` };
      }
      context.logger.warn('authentication failed: wrong user name or password', { username: quoted(credentials.username) });
      return { authenticated: false, details: 'wrong user name or password' };
    },
  };
}

function matchesAccount(candidate: Account, user: Buffer, password: Buffer): boolean {
  const userOk = candidate.user === null ? true : SecretDigester.same(candidate.user, user);
  const passwordOk = SecretDigester.same(candidate.password, password);
  return userOk && passwordOk;
}

function quoted(username: unknown): string {
  const text = String(username ?? '');
  return text.length <= LOGGED_USER_CHARS ? text : `${text.slice(0, LOGGED_USER_CHARS)}…`;
}
