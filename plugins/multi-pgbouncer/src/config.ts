import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** How the plugin reaches pgbouncer's admin console and the pooled databases. */
export type AdminMethod = 'sql' | 'psql';

/** What `pause()` does with a database whose PAUSE did not finish in time. */
export type PauseTimeoutAction = 'kill' | 'fail';

/** How a repointed database drops its server connections to the previous target. */
export type DisconnectMode = 'kill' | 'reconnect';

/** The `[plugins.multi_pgbouncer]` section, defaults applied. */
export interface MultiPgbouncerConfig {
  /** Databases routed to the master: a list, or one comma-separated string. */
  database_list: readonly string[] | string;
  /** Suffix of the read-only alias of each database; empty: no read-only aliases. */
  readonly_suffix: string;
  /** `sql`: the core's SQL client over TCP; `psql`: psql run over SSH on the proxy host. */
  admin_method: AdminMethod;
  /** Admin console user; empty means `[handyrep] postgres_superuser`. */
  admin_user: string;
  /** `[passwords]` key of the admin user's password; empty: none sent. */
  admin_password_key: string;
  /** Seconds a PAUSE may wait for server connections to be released. */
  pause_timeout_seconds: number;
  /** After the pause time-out: `kill` the database's connections, or `fail`. */
  on_pause_timeout: PauseTimeoutAction;
  /** How a repointed database drops its connections to the previous target. */
  failover_disconnect: DisconnectMode;
  /** Connect and statement time-out of admin commands and of the probes of `poll()`. */
  admin_timeout_seconds: number;
  /** Time-out of each SSH command (file write, include check, psql). */
  command_timeout_seconds: number;
  /** psql on the proxy hosts (admin_method = psql). */
  psql_path: string;
}

/** Default per-server `pgbouncer_config`: where Debian's package puts it. */
export const DEFAULT_PGBOUNCER_CONFIG = '/etc/pgbouncer/pgbouncer.ini';

/** Default per-server `pgbouncer_databases_file`. */
export const DEFAULT_DATABASES_FILE = '/etc/pgbouncer/handyrep-databases.ini';

/** Database names and suffixes: nothing a shell, an INI file or pgbouncer's admin console would read specially. */
export const NAME_PATTERN = '^[A-Za-z0-9_]+$';

/** JSON Schema of `[plugins.multi_pgbouncer]`. */
export const configSchema: ObjectSchema = {
  type: 'object',
  description:
    'Points every enabled pgbouncer/proxy server at the master (and a read-only alias at the best replica) by rewriting a [databases] file included from pgbouncer.ini, then RELOAD/PAUSE/KILL/RESUME through its admin console.',
  properties: {
    database_list: {
      type: ['array', 'string'],
      items: { type: 'string', pattern: NAME_PATTERN, maxLength: 60 },
      minItems: 1,
      pattern: '^\\s*[A-Za-z0-9_]+(\\s*,\\s*[A-Za-z0-9_]+)*\\s*$',
      description:
        'Databases routed to the master, each as <name> = host=<master> port=<port> dbname=<name>. INI: "database_list = appdb, reports" or one "database_list[] = appdb" line each. Only letters, digits and underscores (anything else is refused at start).',
    },
    readonly_suffix: {
      type: 'string',
      pattern: '^[A-Za-z0-9_]*$',
      maxLength: 20,
      default: '_ro',
      description:
        'Each database also gets <name><suffix> pointing at the best replica (healthy before lagged, then lowest failover_priority), or at the master when no replica is usable. Empty: no read-only aliases.',
    },
    admin_method: {
      type: 'string',
      enum: ['sql', 'psql'],
      default: 'sql',
      description:
        "How the admin console and the pooled databases are reached. 'sql': HandyRep's SQL client over TCP to the proxy's hostname:port; pgbouncer must have statement_timeout in ignore_startup_parameters. 'psql': psql run over SSH on the proxy host (Unix socket when pgbouncer_socket_dir is set), no pgbouncer setting needed.",
    },
    admin_user: {
      type: 'string',
      default: '',
      description: "User for pgbouncer's admin console (must be in admin_users). Empty: [handyrep] postgres_superuser.",
    },
    admin_password_key: {
      type: 'string',
      default: 'superuser_password',
      description:
        "Key in [passwords] holding admin_user's password. Empty: no password is sent (psql as the pgbouncer user over its Unix socket needs none); with admin_method = sql an empty key means the core's default (superuser_password when set).",
    },
    pause_timeout_seconds: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 600,
      default: 5,
      description:
        'How long PAUSE <db> may wait for server connections to be released (in session pooling a server connection is released only when its client disconnects, so with long-lived clients PAUSE never finishes by itself).',
    },
    on_pause_timeout: {
      type: 'string',
      enum: ['kill', 'fail'],
      default: 'kill',
      description:
        "When PAUSE did not finish in time: 'kill' runs KILL <db> (drops that database's client and server connections at once; new clients wait until RESUME) so nothing reaches the old master; 'fail' leaves the database pausing and reports FAIL.",
    },
    failover_disconnect: {
      type: 'string',
      enum: ['kill', 'reconnect'],
      default: 'kill',
      description:
        "For each database whose target changed: 'kill' runs KILL <db> before RESUME, so no client session stays bound to a server connection to the old target and the pool forgets a failed connect to the old master (otherwise new server connections wait out server_login_retry, 15 s by default); clients waiting in the pause are dropped and must reconnect. 'reconnect' runs RECONNECT <db> (connections close when released: in session pooling, when their client disconnects) and keeps waiting clients, at the risk of that server_login_retry wait.",
    },
    admin_timeout_seconds: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 600,
      default: 5,
      description: 'Connect and statement time-out of each admin command (RELOAD, SHOW DATABASES, KILL, RESUME, RECONNECT) and of each probe of poll().',
    },
    command_timeout_seconds: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 600,
      default: 10,
      description: 'Time-out of each SSH command: writing the databases file, checking the %include line, running psql.',
    },
    psql_path: {
      type: 'string',
      pattern: '^[A-Za-z0-9_./+-]+$',
      default: 'psql',
      description: 'psql on the proxy hosts (admin_method = psql): a name looked up in PATH or an absolute path.',
    },
  },
  required: ['database_list'],
  additionalProperties: false,
};

/** Per-server keys this plugin reads, from `[server_defaults]` or `[servers.<proxy>]`. */
export interface ProxyServerKeys {
  /** pgbouncer.ini on the proxy host; checked for the `%include` line. Empty: not checked. */
  pgbouncer_config: string;
  /** The file this plugin owns and rewrites. */
  pgbouncer_databases_file: string;
  /** pgbouncer's unix_socket_dir, for admin_method = psql; empty: TCP to hostname:port. */
  pgbouncer_socket_dir: string;
}

/** Absolute paths without whitespace or quotes: pgbouncer reads a `%include` line up to its end, unquoted. */
const PATH_PATTERN = '^/[A-Za-z0-9_./+-]*$';

/** JSON Schema of the per-server keys. */
export const serverSchema: ObjectSchema = {
  type: 'object',
  properties: {
    pgbouncer_config: {
      type: 'string',
      pattern: `^$|${PATH_PATTERN}`,
      default: DEFAULT_PGBOUNCER_CONFIG,
      description:
        'pgbouncer.ini on a proxy host. init() checks it has the line "%include <pgbouncer_databases_file>" and refuses to go on without it. Empty: not checked.',
    },
    pgbouncer_databases_file: {
      type: 'string',
      pattern: PATH_PATTERN,
      default: DEFAULT_DATABASES_FILE,
      description:
        "The [databases] file multi_pgbouncer owns on a proxy host (rewritten atomically; its directory must be writable by ssh_user and the file readable by pgbouncer's user). Include it as the last line of pgbouncer.ini.",
    },
    pgbouncer_socket_dir: {
      type: 'string',
      pattern: `^$|${PATH_PATTERN}`,
      default: '',
      description: "pgbouncer's unix_socket_dir on a proxy host; with admin_method = psql, psql connects through it. Empty: psql uses the proxy's hostname and port.",
    },
  },
  additionalProperties: false,
};
