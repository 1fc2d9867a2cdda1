import type { JsonSchema } from '@handyrep/plugin-sdk';

/** One parameter of a spec function, with the spec's name. */
export interface ApiParameter {
  /** The spec's parameter name (`servername`, `check_type`, ...). */
  name: string;
  /** Its JSON Schema (types are coerced from query strings). */
  schema: JsonSchema;
  /** Whether the call needs it. */
  required: boolean;
  /** One line for --help and OpenAPI. */
  description: string;
}

/** One function of the spec, as the library, web API and CLI expose it. */
export interface ApiFunction {
  /** The spec's name, also the web path and CLI subcommand. */
  spec: string;
  /** The HandyRep method implementing it. */
  method: string;
  /** Parameters in the order the method takes them. */
  params: readonly ApiParameter[];
  /** Available over HTTP (the spec marks a few functions library-only). */
  web: boolean;
  /** `read`: information and checks; `admin`: changes something. */
  access: 'read' | 'admin';
  /** One line for --help and OpenAPI. */
  summary: string;
  /**
   * True when a call with these arguments checks servers (connections, SSH
   * commands, test writes): over the web it needs POST even with read access,
   * so no cross-site link or image can set it off.
   */
  checks?: (args: Readonly<Record<string, unknown>>) => boolean;
}

const always = (): boolean => true;
const whenVerify = (args: Readonly<Record<string, unknown>>): boolean => args['verify'] === true || args['verify'] === 'true';

const SERVER_NAME: JsonSchema = { type: 'string', minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' };
const BOOL: JsonSchema = { type: 'boolean' };
const server = (name: string, description: string, required = true): ApiParameter => ({ name, schema: SERVER_NAME, required, description });
const flag = (name: string, description: string): ApiParameter => ({ name, schema: BOOL, required: false, description });
const PROPS: JsonSchema = { type: 'object', maxProperties: 64 };

/**
 * Every function of the spec (plus the original's remaster/rejoin and
 * maintenance mode), 1:1 with the library methods. The web API, the CLI,
 * OpenAPI and docs/library-api.md are derived from this table.
 */
export const API_FUNCTIONS: readonly ApiFunction[] = [
  { spec: 'get_status', method: 'getStatus', web: true, access: 'read', summary: 'cluster and server status',
    checks: (args) => args['check_type'] === 'poll' || args['check_type'] === 'verify',
    params: [{ name: 'check_type', schema: { type: 'string', enum: ['cached', 'poll', 'verify'] }, required: false, description: 'cached (default), poll or verify first' }] },
  { spec: 'get_cluster_status', method: 'getClusterStatus', web: true, access: 'read', summary: 'the cluster status fields', checks: whenVerify, params: [flag('verify', 'verify all servers first')] },
  { spec: 'get_master_name', method: 'getMasterName', web: true, access: 'read', summary: 'name of the enabled master, or null', params: [] },
  { spec: 'get_server_info', method: 'getServerInfo', web: true, access: 'read', summary: 'definition and status of one server or all', checks: whenVerify,
    params: [server('servername', 'server (all when omitted)', false), flag('verify', 'verify first')] },
  { spec: 'read_log', method: 'readLog', web: true, access: 'read', summary: 'last log entries, newest first',
    params: [{ name: 'numlines', schema: { type: 'integer', minimum: 1, maximum: 10000 }, required: false, description: 'how many (default 20)' }] },
  { spec: 'get_setting', method: 'getSetting', web: true, access: 'read', summary: 'one configuration setting (never a password)',
    params: [
      { name: 'category', schema: { type: 'string', minLength: 1, maxLength: 128 }, required: false, description: 'config section (default handyrep)' },
      { name: 'setting', schema: { type: 'string', minLength: 1, maxLength: 128 }, required: true, description: 'setting name' },
    ] },
  { spec: 'set_verbose', method: 'setVerbose', web: true, access: 'admin', summary: 'debug logging on or off', params: [flag('verbose', 'on (default true)')] },
  { spec: 'failover_check', method: 'failoverCheck', web: false, access: 'admin', summary: 'check everything and fail over if needed', params: [flag('verify', 'full verification instead of a poll')] },
  { spec: 'poll_master', method: 'pollMaster', web: true, access: 'read', summary: 'poll the master', checks: always, params: [] },
  { spec: 'poll', method: 'poll', web: true, access: 'read', summary: 'poll one server', checks: always, params: [server('servername', 'server to poll')] },
  { spec: 'poll_all', method: 'pollAll', web: true, access: 'read', summary: 'poll every server', checks: always, params: [] },
  { spec: 'verify_master', method: 'verifyMaster', web: false, access: 'read', summary: 'fully verify the master', params: [] },
  { spec: 'verify_replica', method: 'verifyReplica', web: false, access: 'read', summary: 'fully verify a replica', params: [server('replicaname', 'replica to verify')] },
  { spec: 'verify_server', method: 'verifyServer', web: true, access: 'read', summary: 'fully verify one server', checks: always, params: [server('servername', 'server to verify')] },
  { spec: 'verify_all', method: 'verifyAll', web: true, access: 'read', summary: 'fully verify every server', checks: always, params: [] },
  { spec: 'init_handyrep_db', method: 'initHandyrepDb', web: true, access: 'admin', summary: 'create the HandyRep schema and table on the master', params: [] },
  { spec: 'reload_conf', method: 'reloadConf', web: true, access: 'admin', summary: 'reload the configuration',
    params: [{ name: 'config_file', schema: { type: 'string', minLength: 1, maxLength: 4096 }, required: false, description: 'config file (default: the current one; over the web only the current one is accepted)' }] },
  { spec: 'shutdown', method: 'shutdown', web: true, access: 'admin', summary: 'shut a server down', params: [server('servername', 'server'), flag('force', 'allow the master')] },
  { spec: 'startup', method: 'startup', web: true, access: 'admin', summary: 'start a server', params: [server('servername', 'server')] },
  { spec: 'restart', method: 'restart', web: true, access: 'admin', summary: 'restart a server', params: [server('servername', 'server')] },
  { spec: 'promote', method: 'promote', web: true, access: 'admin', summary: 'promote a replica (no other failover step)', params: [server('newmaster', 'replica to promote')] },
  { spec: 'manual_failover', method: 'manualFailover', web: true, access: 'admin', summary: 'fail over (planned switchover when the master runs)',
    params: [server('newmaster', 'replica to promote (selection when omitted)', false), flag('remaster', 'remaster the other replicas (config default)'), flag('ignore_lag_limit', 'allow a named replica past its lag limit'),
      { name: 'at', schema: { type: 'string', minLength: 1, maxLength: 64 }, required: false, description: 'schedule it for this ISO-8601 time with an offset or Z, at most 30 days ahead (now when omitted)' }] },
  { spec: 'cancel_switchover', method: 'cancelSwitchover', web: true, access: 'admin', summary: 'cancel the scheduled switchover', params: [] },
  { spec: 'clone', method: 'clone', web: true, access: 'admin', summary: 'clone a replica from the master (or clonefrom) and start it',
    params: [
      server('replicaserver', 'server to clone onto'),
      flag('reclone', 'replace an existing data directory'),
      server('clonefrom', 'server to copy from (the master when omitted)', false),
      flag('force', 'with reclone: empty pgdata even when it holds no PostgreSQL data directory (no PG_VERSION)'),
    ] },
  { spec: 'enable', method: 'enable', web: true, access: 'admin', summary: 'enable a server definition', params: [server('servername', 'server')] },
  { spec: 'disable', method: 'disable', web: true, access: 'admin', summary: 'disable a server (and shut it down)', params: [server('servername', 'server'), flag('force', 'allow the master')] },
  { spec: 'remove', method: 'remove', web: true, access: 'admin', summary: 'delete a disabled server definition', params: [server('servername', 'server')] },
  { spec: 'alter_server_def', method: 'alterServerDef', web: true, access: 'admin', summary: 'change a server definition',
    params: [server('servername', 'server'), { name: 'serverprops', schema: PROPS, required: true, description: 'properties to set (JSON object)' }] },
  { spec: 'add_server', method: 'addServer', web: true, access: 'admin', summary: 'add a (disabled) server',
    params: [server('servername', 'new server name'), { name: 'serverprops', schema: PROPS, required: true, description: 'properties; hostname required, role defaults to replica' }] },
  { spec: 'connection_proxy_init', method: 'connectionProxyInit', web: true, access: 'admin', summary: 'push the first proxy configuration', params: [] },
  { spec: 'cleanup_archive', method: 'cleanupArchive', web: true, access: 'admin', summary: 'delete expired WAL from the archive', params: [] },
  { spec: 'start_archiving', method: 'startArchiving', web: true, access: 'admin', summary: 'start WAL archiving on the master', params: [] },
  { spec: 'stop_archiving', method: 'stopArchiving', web: true, access: 'admin', summary: 'stop WAL archiving on the master', params: [] },
  { spec: 'remaster', method: 'remaster', web: true, access: 'admin', summary: 'point a replica at the master (or newmaster)',
    params: [server('replica', 'replica'), server('newmaster', 'upstream (the master when omitted)', false)] },
  { spec: 'rejoin', method: 'rejoin', web: true, access: 'admin', summary: 'bring a disabled former master back as a replica (pg_rewind, else reclone)',
    params: [server('servername', 'server'), flag('reclone', 'reclone when pg_rewind cannot (default true)')] },
  { spec: 'restart_cluster', method: 'restartCluster', web: true, access: 'admin', summary: 'rolling restart: replicas one at a time, then the master (in place or by switchover)',
    params: [flag('pending_only', 'only servers with settings pending a restart or running other binaries than pg_bin'), flag('switchover', 'switch over to a restarted replica instead of restarting the master in place')] },
  { spec: 'pause', method: 'pause', web: true, access: 'admin', summary: 'maintenance mode: no automatic action', params: [] },
  { spec: 'resume', method: 'resume', web: true, access: 'admin', summary: 'leave maintenance mode', params: [] },
];

/** Whether a call must come by POST over the web: every action, and every read that checks servers. */
export function needsPost(fn: ApiFunction, args: Readonly<Record<string, unknown>>): boolean {
  return fn.access === 'admin' || fn.checks?.(args) === true;
}

/** The library method implementing a spec function, or undefined when there is none. */
export function methodForSpecName(spec: string): string | undefined {
  return API_FUNCTIONS.find((entry) => entry.spec === spec)?.method;
}

/** The table entry of a spec function. */
export function apiFunction(spec: string): ApiFunction | undefined {
  return API_FUNCTIONS.find((entry) => entry.spec === spec);
}
