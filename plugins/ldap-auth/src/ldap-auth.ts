import { errorMessage, withTimeout } from '@handyrep/plugin-sdk';
import type { AccessLevel, AuthDecision, AuthenticationPlugin, Credentials, PluginContext } from '@handyrep/plugin-sdk';
import type { LdapAuthConfig } from './config.js';
import { refusalOf } from './credentials-check.js';
import { escapeDnValue, escapeFilterValue } from './ldap-escape.js';
import type { LdapConnector, LdapSession } from './ldap-session.js';
import { ldapSettings, USERNAME_PLACEHOLDER } from './ldap-settings.js';
import type { LdapSettings } from './ldap-settings.js';
import { ldaptsConnector } from './ldapts-connector.js';

/** What callers are told for a wrong user name or password, whichever it was. */
const WRONG_CREDENTIALS = 'wrong user name or password';

/** Longest user name quoted in a log line. */
const LOGGED_USER_CHARS = 64;

/**
 * The `ldap_auth` instance. `connector` replaces the real LDAP client in unit
 * tests. Throws at creation when the configuration cannot work.
 */
export function createLdapAuth(context: PluginContext<LdapAuthConfig>, connector?: LdapConnector): AuthenticationPlugin {
  const { config, logger } = context;
  const settings = ldapSettings(config, context.secrets, `[plugins.${context.name}]`);
  const connect =
    connector ?? ldaptsConnector({ url: config.url, starttls: config.starttls, ca: settings.ca, timeoutMs: config.timeout_ms });

  return {
    async authenticate(credentials: Credentials): Promise<AuthDecision> {
      const user = shown(credentials.username);
      const refusal = refusalOf(credentials);
      if (refusal !== undefined) {
        logger.warn(`authentication refused: ${refusal}`, { username: user });
        return { authenticated: false, details: refusal };
      }
      const attempt = new Attempt(connect);
      try {
        const decision = await withTimeout(
          decide(config, settings, attempt, credentials),
          config.timeout_ms,
          `LDAP server ${config.url}: no answer within ${config.timeout_ms} ms`,
        );
        if (decision.authenticated) logger.info(`${decision.access} access granted`, { username: user });
        else logger.warn(`authentication failed: ${decision.details}`, { username: user });
        return decision;
      } catch (err) {
        const why = redact(errorMessage(err), [credentials.password, settings.bindPassword]);
        logger.error(`LDAP authentication could not be completed: ${why}`, { username: user });
        return { authenticated: false, details: `LDAP authentication could not be completed: ${why}` };
      } finally {
        await attempt.finish();
      }
    },
  };
}

/** Binds as the user, then reads group membership. Expects credentials already screened by refusalOf. */
async function decide(config: LdapAuthConfig, settings: LdapSettings, attempt: Attempt, credentials: Credentials): Promise<AuthDecision> {
  const { username, password } = credentials;
  let service: LdapSession | undefined;
  if (config.bind_dn !== '') {
    service = await attempt.open();
    if (!(await service.bind(config.bind_dn, settings.bindPassword ?? ''))) {
      throw new Error(`the service account ${config.bind_dn} was refused by the directory (check [passwords] ${config.bind_password_key})`);
    }
  }

  let userDn: string;
  if (config.user_dn_template !== '') {
    userDn = config.user_dn_template.replaceAll(USERNAME_PLACEHOLDER, escapeDnValue(username));
  } else {
    const searcher = service ?? (await attempt.open());
    const filter = config.search_filter.replaceAll(USERNAME_PLACEHOLDER, escapeFilterValue(username));
    const found = await searcher.search(config.search_base, filter, config.search_scope, 1);
    if (found.truncated) return { authenticated: false, details: `the user search found more than one entry for this user name; refusing` };
    const [dn] = found.dns;
    if (dn === undefined) return { authenticated: false, details: WRONG_CREDENTIALS };
    userDn = dn;
  }

  const asUser = await attempt.open();
  if (!(await asUser.bind(userDn, password))) return { authenticated: false, details: WRONG_CREDENTIALS };

  // Group entries are read as the service account when there is one: users often may not read groups.
  const reader = service ?? asUser;
  const memberValue = config.member_value === 'dn' ? userDn : username;
  const groups: [AccessLevel, string][] = [
    ['admin', config.admin_group_dn],
    ['read', config.read_group_dn],
  ];
  for (const [access, groupDn] of groups) {
    if (groupDn !== '' && (await isMember(reader, groupDn, config.member_attribute, memberValue))) {
      return { authenticated: true, access, details: `LDAP bind as ${userDn} accepted; member of ${groupDn}: ${access} access` };
    }
  }
  if (config.default_access !== 'none') {
    return { authenticated: true, access: config.default_access, details: `LDAP bind as ${userDn} accepted; in no group: default ${config.default_access} access` };
  }
  return { authenticated: false, details: `${userDn} is a member of neither the admin nor the read group` };
}

async function isMember(session: LdapSession, groupDn: string, attribute: string, value: string): Promise<boolean> {
  try {
    return await session.compare(groupDn, attribute, value);
  } catch (err) {
    throw new Error(`cannot check membership of group ${groupDn}: ${errorMessage(err)}`);
  }
}

/** The sessions of one authentication, all closed when it ends (even one that opens after a time-out). */
class Attempt {
  private readonly sessions: LdapSession[] = [];
  private finished = false;

  constructor(private readonly connect: LdapConnector) {}

  /** Opens a session that `finish` will close. */
  async open(): Promise<LdapSession> {
    const session = await this.connect();
    if (this.finished) {
      await session.close();
      throw new Error('authentication already timed out');
    }
    this.sessions.push(session);
    return session;
  }

  /** Closes every session opened so far. */
  async finish(): Promise<void> {
    this.finished = true;
    await Promise.all(this.sessions.splice(0).map((session) => session.close()));
  }
}

function redact(text: string, secrets: (string | undefined)[]): string {
  return secrets.reduce<string>((out, secret) => (secret ? out.split(secret).join('[redacted]') : out), text);
}

function shown(username: unknown): string {
  const text = String(username ?? '');
  return text.length <= LOGGED_USER_CHARS ? text : `${text.slice(0, LOGGED_USER_CHARS)}…`;
}
