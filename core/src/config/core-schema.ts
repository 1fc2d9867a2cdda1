import type { JsonSchema, ObjectSchema } from '@handyrep/plugin-sdk';

/** Server names double as INI section names, file names and shell words: keep them plain. */
export const SERVER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$';

/** Keys whose value names a plugin; the loader reads these to know what to load. */
export const CLUSTER_PLUGIN_KEYS = {
  'handyrep.master_check_method': 'hr_master',
  'handyrep.push_alert_method': 'alert',
  'handyrep.authentication_method': 'authentication',
  'failover.poll_method': 'poll',
  'failover.replication_status_method': 'replication_status',
  'failover.selection_method': 'replica_selection',
  'failover.connection_failover_method': 'connection_failover',
  'failover.fencing_method': 'fencing',
  'archive.archive_script_method': 'archive',
  'archive.archive_delete_method': 'archive_cleanup',
} as const;

/** Per-server keys whose value names a plugin. */
export const SERVER_PLUGIN_KEYS = {
  restart_method: 'control',
  promotion_method: 'promotion',
  clone_method: 'clone',
} as const;

const pluginName = (description: string): JsonSchema => ({
  type: 'string',
  default: '',
  description: `${description} Empty: none configured.`,
});

/** `[handyrep]`: the instance itself. */
export const handyrepSection: ObjectSchema = {
  type: 'object',
  description: 'This HandyRep instance: files, credentials it uses, how it reaches servers.',
  properties: {
    log_file: { type: 'string', default: '', description: 'Log file (JSON lines); empty logs to standard output. Relative to the config file.' },
    log_verbose: { type: 'boolean', default: false, description: 'Log debug detail.' },
    server_file: { type: 'string', default: 'servers.save', description: 'Saved server registry and status (JSON). Relative to the config file.' },
    override_server_file: {
      type: 'boolean',
      default: false,
      description: 'Take server definitions from this file even when the server file exists (otherwise the saved state is canonical).',
    },
    postgres_superuser: { type: 'string', default: 'postgres', description: 'PostgreSQL superuser HandyRep connects as; its password is `[passwords] superuser_password`.' },
    replication_user: { type: 'string', default: 'replicator', description: 'Replication user for clones and primary_conninfo; its password is `[passwords] replication_password`.' },
    handyrep_db: { type: 'string', default: 'postgres', description: 'Database HandyRep connects to and keeps its table in.' },
    handyrep_schema: { type: 'string', default: 'handyrep', pattern: '^[a-z_][a-z0-9_]*$', description: 'Schema of the HandyRep state table.' },
    handyrep_table: { type: 'string', default: 'handyrep', pattern: '^[a-z_][a-z0-9_]*$', description: 'Name of the HandyRep state table.' },
    master_check_method: pluginName('Plugin deciding whether this instance acts (several HandyRep instances).'),
    push_alert_method: pluginName('Plugin delivering alerts.'),
    authentication_method: pluginName('Plugin checking web API credentials.'),
    ssh_key: { type: 'string', default: '', description: 'Private key for SSH to servers; empty uses the SSH agent.' },
    ssh_known_hosts: { type: 'string', default: '~/.ssh/known_hosts', description: 'known_hosts file host keys are checked against.' },
    ssh_host_key_policy: {
      type: 'string',
      enum: ['strict', 'accept-new', 'off'],
      default: 'strict',
      description: 'strict: unknown or changed host keys are refused; accept-new: unknown keys are added, changed ones refused; off: no check (not for production).',
    },
    ssh_timeout: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Seconds allowed for an SSH connection and for each remote command unless a plugin says otherwise.' },
    connect_timeout: { type: 'number', exclusiveMinimum: 0, default: 5, description: 'Seconds allowed to open a PostgreSQL connection.' },
    web_listen: { type: 'string', default: '127.0.0.1', description: 'Address the daemon\'s web API and dashboard listen on.' },
    web_port: { type: 'integer', minimum: 1, maximum: 65535, default: 8754, description: 'Port of the web API and dashboard.' },
    tls_cert: { type: 'string', default: '', description: 'PEM certificate for HTTPS; with tls_key, the web API speaks TLS only. Relative to the config file.' },
    tls_key: { type: 'string', default: '', description: 'PEM private key for HTTPS. Relative to the config file.' },
    web_allowed_hosts: {
      type: 'string',
      default: '',
      description:
        'Comma-separated host names (or addresses) the web API answers to, besides web_listen, localhost and 127.0.0.1 (and, for a wildcard web_listen, this machine\'s own addresses and host name). A request whose Host header names anything else is refused with 403 (DNS rebinding).',
    },
    health_endpoints: {
      type: 'boolean',
      default: false,
      description:
        'Answer the load balancers\' health checks GET/HEAD /health/master, /health/master/<name> and /health/replica/<name>?max_lag_mb=N (200 or 503, one word) without authentication and whatever the Host header (docs/web-api.md, docs/haproxy.md). Off: those paths answer 404.',
    },
    web_login_max_failures: {
      type: 'integer',
      minimum: 1,
      default: 10,
      description: 'Failed web API logins one client address may make within web_login_lockout_seconds; beyond that it gets 429 until the period has passed.',
    },
    web_login_lockout_seconds: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 60,
      description: 'The window failed logins are counted in, and how long a client address that made too many gets 429.',
    },
    allow_world_readable_config: {
      type: 'boolean',
      default: false,
      description:
        'Start even when this file holds [passwords] and others may read it. Without it, HandyRep refuses to start on such a file (and warns when group or others may read the file at all).',
    },
    plugin_paths: {
      type: 'string',
      default: '',
      description:
        "Comma-separated directories whose node_modules hold plugin packages (a directory named node_modules is used as it is), searched after HandyRep's own installation. Relative to the config file. Neither the config file's directory nor its parents are searched otherwise.",
    },
    pg_sslmode: {
      type: 'string',
      enum: ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'],
      default: 'prefer',
      description:
        "TLS for every PostgreSQL connection of HandyRep and its plugins (checks, the master watcher, actions), as libpq's sslmode: prefer tries TLS and talks in clear only to a server without TLS; require insists on TLS; verify-ca also checks the certificate against pg_sslrootcert; verify-full also checks that it names the server's hostname. A certificate that does not verify is always refused (HR_PG_TLS).",
    },
    pg_sslrootcert: {
      type: 'string',
      default: '',
      description: "PEM CA certificate(s) a server's certificate must chain to (with require or prefer it is then checked as with verify-ca); empty: Node's public CAs. Relative to the config file.",
    },
    pg_sslcert: { type: 'string', default: '', description: 'PEM client certificate for certificate authentication (pg_hba.conf cert); with pg_sslkey. Relative to the config file.' },
    pg_sslkey: { type: 'string', default: '', description: 'PEM private key of pg_sslcert. Relative to the config file.' },
    replication_sslmode: {
      type: 'string',
      pattern: '^(disable|allow|prefer|require|verify-ca|verify-full)?$',
      default: '',
      description:
        "sslmode (disable, allow, prefer, require, verify-ca or verify-full) written into each replica's primary_conninfo by clones and remastering, and given to pg_basebackup and pg_rewind on the database hosts; empty writes none (libpq's default, prefer).",
    },
    replication_sslrootcert: {
      type: 'string',
      pattern: '^(/[^\\x00-\\x1f]*)?$',
      default: '',
      description: "sslrootcert written into each replica's primary_conninfo with replication_sslmode: an absolute path on the database hosts; empty writes none (libpq's default, ~/.postgresql/root.crt of the postgres user).",
    },
    statement_timeout: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'Seconds any HandyRep SQL statement may run.' },
    plugin_timeout: {
      type: 'number',
      exclusiveMinimum: 0,
      // Above the bundled control plugins' own worst case (a restart: stop and start, 60 s wait each plus command time-outs).
      default: 180,
      description:
        "Seconds any call of a plugin may take (polls, control, fencing, alerts, proxies, ...) before HandyRep gives up on it with HR_TIMEOUT and goes on; the plugin's own work may continue. Promotions are bounded by [failover] promotion_timeout, clones and archive cleanup by clone_timeout.",
    },
    clone_timeout: {
      type: 'number',
      minimum: 0,
      default: 0,
      description: 'Seconds a call of a clone plugin (clone, rewind) or of the archive cleanup plugin may take; 0: no limit.',
    },
  },
  additionalProperties: false,
};

/** `[failover]`: checking and failing over. */
export const failoverSection: ObjectSchema = {
  type: 'object',
  description: 'How servers are checked and when and how HandyRep fails over.',
  properties: {
    auto_failover: { type: 'boolean', default: false, description: 'Fail over automatically when the master is verified down.' },
    poll_method: pluginName('Plugin for the lightweight availability check.'),
    poll_interval: { type: 'number', minimum: 0.1, default: 10, description: 'Seconds between checks.' },
    verify_frequency: { type: 'integer', minimum: 1, default: 6, description: 'Every Nth check is a full verification.' },
    fail_retries: { type: 'integer', minimum: 0, default: 3, description: 'Times an ambiguous master failure is re-polled before verifying.' },
    fail_retry_interval: { type: 'number', minimum: 0, default: 5, description: 'Seconds between those re-polls.' },
    restart_master: { type: 'boolean', default: false, description: 'Try restarting a failed master on a reachable host before failing over.' },
    remaster: { type: 'boolean', default: true, description: 'After a failover, point the other replicas at the new master.' },
    replication_status_method: pluginName('Plugin reading lag and WAL positions.'),
    selection_method: pluginName('Plugin ordering failover candidates.'),
    connection_failover_method: pluginName('Plugin repointing connection proxies.'),
    fencing_method: pluginName('Plugin fencing an old master (default: its control plugin, immediate stop).'),
    unreachable_master_policy: {
      type: 'string',
      enum: ['abort', 'failover'],
      default: 'abort',
      description:
        'When the old master cannot be fenced and its state is unknown (no answer at all, e.g. a network partition): abort keeps it master and alerts (never two writable masters); failover promotes anyway (only with external fencing you trust). A master whose port refuses connections is known not to accept writes and does not need this.',
    },
    promotion_timeout: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 60,
      description: "Seconds a promotion may take: a promotion plugin's call that has not finished by then fails with HR_TIMEOUT.",
    },
    restart_catchup_timeout: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 120,
      description:
        'Seconds restart_cluster waits, after restarting a server, for the replicas to stream from the master again and replay its WAL position taken after the restart; a replica not caught up by then stops the rolling restart there.',
    },
    synchronous_mode: {
      type: 'string',
      enum: ['off', 'quorum', 'quorum_strict'],
      default: 'off',
      description:
        "off: HandyRep leaves synchronous_standby_names alone. quorum: it keeps synchronous_standby_names = 'ANY k (S)' on the master, S being the enabled, healthy, promotable replicas, lowers k (down to asynchronous) when too few remain, and fails over a master that answers nothing without reaching it once |S| - k + 1 members of S are reachable (quorum fencing). quorum_strict: the same, but S never shrinks below k: writes wait instead of losing the guarantee.",
    },
    synchronous_count: {
      type: 'integer',
      minimum: 1,
      default: 1,
      description: 'k: how many members of the synchronous set must acknowledge each commit (synchronous_mode quorum or quorum_strict).',
    },
    use_slots: {
      type: 'boolean',
      default: true,
      description:
        "Each replica streams through its own physical replication slot on its master (the server's slot_name): clone, remaster, enable and failover create it on the upstream before the replica points at it, so a replica that was away keeps its WAL. Off: HandyRep creates none and remaster clears primary_slot_name. See docs/replication-slots.md (set max_slot_wal_keep_size).",
    },
    slot_retention_hours: {
      type: 'number',
      minimum: 0,
      default: 24,
      description:
        "Hours a replica may stay disabled before the periodic check drops its slot on the master (with an alert), so it no longer holds WAL back; fractions allowed. A removed server's slot is dropped at once. Slots named after no server are reported, never dropped.",
    },
    alert_repeat_minutes: {
      type: 'number',
      minimum: 0,
      default: 30,
      description:
        'A master problem that HandyRep will not act on (failover refused, paused, cut off, held) is alerted once; the same problem is re-alerted at most this often while it lasts. New evidence about the master re-evaluates at once.',
    },
    switchover_grace_seconds: {
      type: 'number',
      minimum: 0,
      default: 300,
      description:
        'A scheduled switchover (manual_failover with at) that could not start at its time, because HandyRep was not running or busy, still runs when at most this many seconds late; later, it is cancelled with an alert.',
    },
  },
  additionalProperties: false,
};

/** `[archive]`: WAL archiving. */
export const archiveSection: ObjectSchema = {
  type: 'object',
  description: 'WAL archiving from the master and cleanup of the archive.',
  properties: {
    archiving: { type: 'boolean', default: false, description: 'Whether HandyRep manages WAL archiving.' },
    archive_server: { type: 'string', default: '', description: 'Name of the server (role archive) holding the archive, if remote.' },
    archive_directory: { type: 'string', default: '', description: 'Directory WAL segments are archived to.' },
    archive_script_method: pluginName('Plugin pushing the archive script and switching archiving on and off.'),
    archive_delete_method: pluginName('Plugin deleting old WAL segments.'),
    archive_touch_file: { type: 'string', default: '', description: 'No-archiving touch file on the master; empty lets the plugin choose.' },
    archive_delete_hours: { type: 'number', minimum: 0, default: 48, description: 'Age in hours after which archived segments are deleted.' },
  },
  additionalProperties: false,
};

/** Per-server keys: defaults live only in `[server_defaults]` so a server section overrides exactly what it says. */
export const serverProperties: Record<string, JsonSchema> = {
  hostname: { type: 'string', minLength: 1, description: 'Host name or address.' },
  role: {
    type: 'string',
    pattern: '^[a-z][a-z0-9_]*$',
    description: 'master, replica, proxy, pgbouncer, archive, or a role of your own (not checked).',
  },
  enabled: { type: 'boolean', default: true, description: 'Disabled servers are neither checked nor chosen.' },
  port: { type: 'integer', minimum: 1, maximum: 65535, default: 5432, description: 'PostgreSQL (or proxy) port.' },
  pgdata: { type: 'string', default: '/var/lib/postgresql/15/main', description: 'Data directory.' },
  pgconf: { type: 'string', default: '', description: 'Directory of postgresql.conf; empty means pgdata.' },
  pg_bin: { type: 'string', default: '/usr/lib/postgresql/15/bin', description: 'Directory of pg_ctl, pg_basebackup and friends.' },
  socket_dir: { type: 'string', default: '', description: 'Unix socket directory of the server, for tools run on its host; empty uses the default.' },
  ssh_user: { type: 'string', default: 'postgres', description: 'User HandyRep logs in as over SSH.' },
  ssh_port: { type: 'integer', minimum: 1, maximum: 65535, default: 22, description: 'SSH port.' },
  lag_limit: { type: 'number', minimum: 0, default: 100, description: 'Replay lag in MB beyond which a replica is reported lagged.' },
  failover_lag_limit: { type: 'number', minimum: 0, default: 1000, description: 'Lag in MB beyond which a replica is no failover candidate.' },
  failover_priority: { type: 'integer', minimum: 0, default: 999, description: 'Among equally advanced candidates, lower wins.' },
  nofailover: { type: 'boolean', default: false, description: 'Never promote this server.' },
  restart_method: pluginName('Control plugin (start/stop/restart/reload).'),
  promotion_method: pluginName('Promotion plugin.'),
  clone_method: pluginName('Clone plugin.'),
  slot_name: {
    type: 'string',
    pattern: '^[a-z0-9_]{0,63}$',
    description:
      "Physical replication slot this replica streams through on its master ([failover] use_slots): lower-case letters, digits and underscores, at most 63. Empty or absent: derived from the server's name (lower-cased, other characters as '_', plus a short hash of the name when that changed it or it was too long).",
  },
};

/** Keys the status model owns; they can't be set in the config or through alterServerDef. */
export const STATUS_KEYS = ['status', 'status_no', 'status_ts', 'status_message'] as const;

/** `[extra_failover_commands.<name>]`: local commands run after a failover. */
export const extraFailoverCommandSchema: ObjectSchema = {
  type: 'object',
  description: 'A command HandyRep runs on its own host after each failover, with the new master name and host as arguments.',
  properties: {
    command: { type: 'string', minLength: 1, description: 'Executable (absolute path) run without a shell.' },
    timeout: { type: 'number', exclusiveMinimum: 0, default: 60, description: 'Seconds allowed.' },
  },
  required: ['command'],
  additionalProperties: false,
};
