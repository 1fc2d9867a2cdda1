/** The result of a search for user entries. */
export interface LdapSearchResult {
  /** DNs of the entries found (at most the limit asked for). */
  dns: string[];
  /** True when more entries matched than the limit. */
  truncated: boolean;
}

/**
 * One connection to the directory, already encrypted as configured. The
 * plugin talks to LDAP only through this, so unit tests can use a fake.
 */
export interface LdapSession {
  /** Simple bind; false when the directory says the credentials are invalid, throws on any other error. */
  bind(dn: string, password: string): Promise<boolean>;
  /** DNs of the entries under `base` matching `filter`, at most `limit`. */
  search(base: string, filter: string, scope: 'base' | 'one' | 'sub', limit: number): Promise<LdapSearchResult>;
  /** LDAP compare; false also when the entry lacks the attribute; throws when the entry does not exist. */
  compare(dn: string, attribute: string, value: string): Promise<boolean>;
  /** Unbinds and closes; never throws. */
  close(): Promise<void>;
}

/** Opens a session (connect, plus StartTLS when configured). */
export type LdapConnector = () => Promise<LdapSession>;
