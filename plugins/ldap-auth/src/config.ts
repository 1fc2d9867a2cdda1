import type { AccessLevel, ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.ldap_auth]` section, defaults applied. */
export interface LdapAuthConfig {
  /** `ldap://host:port` or `ldaps://host:port`. */
  url: string;
  /** Upgrade an `ldap://` connection with StartTLS before binding. */
  starttls: boolean;
  /** PEM file of extra CAs trusted for the server's certificate; empty: system CAs. */
  ca_file: string;
  /** Allow `ldap://` without StartTLS, i.e. passwords in the clear. */
  allow_plaintext: boolean;
  /** Milliseconds one authentication may take in all. */
  timeout_ms: number;
  /** DN of a user with `{username}` where the (escaped) user name goes; empty: search mode. */
  user_dn_template: string;
  /** Base DN searched for the user; empty: template mode. */
  search_base: string;
  /** Filter finding the user, with `{username}` where the (escaped) user name goes. */
  search_filter: string;
  /** Scope of that search. */
  search_scope: 'base' | 'one' | 'sub';
  /** Service account DN for the search and group checks; empty: anonymous search, group checks as the user. */
  bind_dn: string;
  /** `[passwords]` key of the service account's password. */
  bind_password_key: string;
  /** Group whose members get admin access; empty: none. */
  admin_group_dn: string;
  /** Group whose members get read access; empty: none. */
  read_group_dn: string;
  /** Attribute of the group listing its members. */
  member_attribute: string;
  /** Whether that attribute holds member DNs or user names. */
  member_value: 'dn' | 'username';
  /** Access of a user whose password is right but who is in neither group. */
  default_access: 'none' | AccessLevel;
}

/** JSON Schema of `[plugins.ldap_auth]`. */
export const ldapAuthConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Web API callers authenticated by an LDAP bind as themselves; access from group membership.',
  properties: {
    url: { type: 'string', pattern: '^ldaps?://[^/]+/?$', description: 'LDAP server: `ldaps://host:636`, or `ldap://host:389` with starttls = true.' },
    starttls: { type: 'boolean', default: false, description: 'Upgrade an ldap:// connection with StartTLS before anything is sent.' },
    ca_file: {
      type: 'string',
      default: '',
      description: "PEM file of a CA trusted for the server's certificate in addition to the system CAs. Certificates are always verified.",
    },
    allow_plaintext: {
      type: 'boolean',
      default: false,
      description: 'Allow ldap:// without StartTLS: passwords then cross the network unencrypted. Without it such a url stops HandyRep at start.',
    },
    timeout_ms: {
      type: 'integer',
      minimum: 100,
      default: 5_000,
      description: 'Milliseconds one authentication (connect, TLS, binds, search, group checks) may take in all; then the caller is refused.',
    },
    user_dn_template: {
      type: 'string',
      default: '',
      description: 'Direct bind: the user DN with `{username}` for the user name (escaped per RFC 4514), e.g. `uid={username},ou=people,dc=example,dc=org`. Set this or search_base.',
    },
    search_base: {
      type: 'string',
      default: '',
      description: 'Search-then-bind: base DN under which the user entry is searched (as bind_dn, or anonymously). Set this or user_dn_template.',
    },
    search_filter: {
      type: 'string',
      default: '(uid={username})',
      description: 'Filter finding exactly one user entry, with `{username}` for the user name (escaped per RFC 4515).',
    },
    search_scope: { type: 'string', enum: ['base', 'one', 'sub'], default: 'sub', description: 'Scope of the user search.' },
    bind_dn: {
      type: 'string',
      default: '',
      description: 'Service account DN used for the user search and the group checks. Empty: anonymous search, and group checks as the user.',
    },
    bind_password_key: {
      type: 'string',
      minLength: 1,
      default: 'ldap_bind_password',
      description: "Key in [passwords] holding the service account's password (needed when bind_dn is set).",
    },
    admin_group_dn: { type: 'string', default: '', description: 'DN of the group whose members get admin access. Empty: no admin group.' },
    read_group_dn: { type: 'string', default: '', description: 'DN of the group whose members get read access. Empty: no read group.' },
    member_attribute: {
      type: 'string',
      pattern: '^[A-Za-z][A-Za-z0-9-]*$',
      default: 'member',
      description: 'Group attribute listing members: `member` (groupOfNames), `uniqueMember` (groupOfUniqueNames) or `memberUid` (posixGroup, with member_value = username).',
    },
    member_value: {
      type: 'string',
      enum: ['dn', 'username'],
      default: 'dn',
      description: "What member_attribute holds: the member's DN, or the bare user name.",
    },
    default_access: {
      type: 'string',
      enum: ['none', 'read', 'admin'],
      default: 'none',
      description: 'Access of a user with the right password who is in neither group. none: refused.',
    },
  },
  required: ['url'],
  additionalProperties: false,
};
