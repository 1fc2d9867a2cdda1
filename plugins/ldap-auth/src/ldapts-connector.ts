import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, NoSuchAttributeError, SizeLimitExceededError } from 'ldapts';
import type { LdapConnector, LdapSearchResult, LdapSession } from './ldap-session.js';

/** How to reach the directory. */
export interface LdaptsOptions {
  /** `ldap://` or `ldaps://` URL. */
  url: string;
  /** Upgrade with StartTLS right after connecting. */
  starttls: boolean;
  /** Trusted CAs; undefined: Node's defaults. */
  ca: string[] | undefined;
  /** Per-operation and connect time-out. */
  timeoutMs: number;
}

/** A connector backed by the `ldapts` client. */
export function ldaptsConnector(options: LdaptsOptions): LdapConnector {
  const parsed = new URL(options.url);
  const ldaps = parsed.protocol === 'ldaps:';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const tlsOptions: ConnectionOptions = {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
    // The certificate is checked against `host`; SNI may only carry a name, never an address.
    host,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  };
  return async () => {
    // ldapts opens TLS from the first byte whenever tlsOptions is given, so only ldaps:// gets them here.
    const client = new Client({
      url: options.url,
      timeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
      ...(ldaps ? { tlsOptions } : {}),
    });
    const session = new LdaptsSession(client);
    try {
      if (options.starttls) await client.startTLS(tlsOptions);
      return session;
    } catch (err) {
      await session.close();
      throw err;
    }
  };
}

class LdaptsSession implements LdapSession {
  constructor(private readonly client: Client) {}

  async bind(dn: string, password: string): Promise<boolean> {
    try {
      await this.client.bind(dn, password);
      return true;
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return false;
      throw err;
    }
  }

  async search(base: string, filter: string, scope: 'base' | 'one' | 'sub', limit: number): Promise<LdapSearchResult> {
    try {
      const { searchEntries } = await this.client.search(base, { scope, filter, attributes: ['1.1'], sizeLimit: limit + 1 });
      return { dns: searchEntries.slice(0, limit).map((entry) => entry.dn), truncated: searchEntries.length > limit };
    } catch (err) {
      if (err instanceof SizeLimitExceededError) return { dns: [], truncated: true };
      throw err;
    }
  }

  async compare(dn: string, attribute: string, value: string): Promise<boolean> {
    try {
      return await this.client.compare(dn, attribute, value);
    } catch (err) {
      if (err instanceof NoSuchAttributeError) return false;
      throw err;
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.unbind();
    } catch {
      // Closing a connection that already failed has nothing left to report.
    }
  }
}
