import type { LdapConnector, LdapSearchResult, LdapSession } from '../ldap-session.js';

/** One call a fake session received. */
export interface DirectoryCall {
  /** Session number, 1-based, in opening order. */
  session: number;
  /** Operation and its arguments (passwords replaced by `***`). */
  op: string;
}

/** A user entry of the fake directory. */
export interface FakeEntry {
  /** Exact DN (compared case-insensitively). */
  dn: string;
  /** Simple-bind password. */
  password: string;
  /** Attribute values used by search filters of the form `(attr=value)`. */
  attributes: Record<string, string>;
}

/**
 * An in-memory directory behind the LdapSession interface: binds check
 * passwords, searches understand `(attr=value)` with RFC 4515 escapes,
 * compares look at group member lists. Enough to test the plugin's logic.
 */
export class FakeDirectory {
  /** Every call, oldest first. */
  readonly calls: DirectoryCall[] = [];
  /** Group DN → attribute → values. */
  readonly groups = new Map<string, Record<string, string[]>>();
  /** When set, every operation waits this long first. */
  delayMs = 0;
  /** When set, connecting throws this. */
  connectError: Error | undefined;
  private sessions = 0;
  /** Sessions opened and not yet closed. */
  open = 0;

  constructor(readonly entries: FakeEntry[]) {}

  /** The connector to hand to the plugin. */
  readonly connector: LdapConnector = async () => {
    if (this.connectError) throw this.connectError;
    this.sessions += 1;
    this.open += 1;
    return this.session(this.sessions);
  };

  private session(id: number): LdapSession {
    const record = (op: string): void => {
      this.calls.push({ session: id, op });
    };
    const wait = async (): Promise<void> => {
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    };
    let closed = false;
    return {
      bind: async (dn, password) => {
        record(`bind ${dn}`);
        await wait();
        const entry = this.entries.find((candidate) => candidate.dn.toLowerCase() === dn.toLowerCase());
        return entry !== undefined && entry.password === password;
      },
      search: async (base, filter, scope, limit): Promise<LdapSearchResult> => {
        record(`search ${base} ${scope} ${filter}`);
        await wait();
        const match = /^\(([A-Za-z]+)=(.*)\)$/.exec(filter);
        if (!match) throw new Error(`fake directory: unsupported filter ${filter}`);
        const [, attribute = '', escaped = ''] = match;
        if (/[*()]/.test(escaped)) throw new Error(`fake directory: unescaped special character in ${filter}`);
        const value = escaped.replace(/\\([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        const found = this.entries.filter((entry) => entry.dn.toLowerCase().endsWith(base.toLowerCase()) && entry.attributes[attribute] === value);
        return { dns: found.slice(0, limit).map((entry) => entry.dn), truncated: found.length > limit };
      },
      compare: async (dn, attribute, value) => {
        record(`compare ${dn} ${attribute} ${value}`);
        await wait();
        const group = this.groups.get(dn.toLowerCase());
        if (!group) throw new Error(`No Such Object: ${dn}`);
        return (group[attribute] ?? []).some((member) => member.toLowerCase() === value.toLowerCase());
      },
      close: async () => {
        if (!closed) {
          closed = true;
          this.open -= 1;
          record('close');
        }
      },
    };
  }
}
