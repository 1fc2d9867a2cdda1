import type { PluginKind } from '@handyrep/plugin-sdk';

/** What the scaffold writes for one plugin kind. */
export interface KindTemplate {
  /** Where an operator names a plugin of this kind, e.g. `[failover] fencing_method`. */
  configKey: string;
  /** The section that key goes in for the README's example. */
  section: string;
  /** The key alone. */
  key: string;
  /** The instance's methods as TypeScript, indented for the object `create` returns. */
  methods: string;
  /** An expression calling one method of `instance` in the example test. */
  exampleCall: string;
  /** Names the example test imports from `@handyrep/plugin-sdk/testing` besides the usual ones. */
  testingImports: readonly string[];
}

/** A method that answers FAIL until its author writes it. */
function failing(signature: string, what: string, extra = ''): string {
  return `      async ${signature} {\n        return fail(notWritten(${what})${extra ? `, ${extra}` : ''});\n      },\n`;
}

const serverMethods = (names: readonly string[]): string => names.map((name) => failing(`${name}(server)`, `\`${name}(\${server})\``)).join('');

/** One template per kind; the methods satisfy the kind's interface in `@handyrep/plugin-sdk`. */
export const KIND_TEMPLATES: Readonly<Record<PluginKind, KindTemplate>> = {
  poll: {
    configKey: '[failover] poll_method',
    section: 'failover',
    key: 'poll_method',
    methods: failing('poll(server)', '`poll(${server})`', "{ state: 'bad_config', duration_ms: 0 }"),
    exampleCall: "instance.poll('db1')",
    testingImports: [],
  },
  control: {
    configKey: 'restart_method (per server: [server_defaults] or [servers.NAME])',
    section: 'server_defaults',
    key: 'restart_method',
    methods: serverMethods(['start', 'stop', 'faststop', 'restart', 'reload']) + failing('status(server)', '`status(${server})`', '{ running: false }'),
    exampleCall: "instance.status('db1')",
    testingImports: [],
  },
  promotion: {
    configKey: 'promotion_method (per server: [server_defaults] or [servers.NAME])',
    section: 'server_defaults',
    key: 'promotion_method',
    methods: serverMethods(['promote']),
    exampleCall: "instance.promote('db1')",
    testingImports: [],
  },
  clone: {
    configKey: 'clone_method (per server: [server_defaults] or [servers.NAME])',
    section: 'server_defaults',
    key: 'clone_method',
    methods: failing('clone(request)', '`clone(${request.target} from ${request.source})`', '{ duration_ms: 0 }'),
    exampleCall: "instance.clone({ target: 'db2', source: 'db1', upstream: 'db1', reclone: false })",
    testingImports: [],
  },
  replication_status: {
    configKey: '[failover] replication_status_method',
    section: 'failover',
    key: 'replication_status_method',
    methods:
      failing('lag(master, replica)', '`lag(${master}, ${replica})`', '{ lag_bytes: null, lag_mb: null, connected: false }') +
      failing(
        'position(replica)',
        '`position(${replica})`',
        '{ received_lsn: null, replayed_lsn: null, in_recovery: false, receiver_status: null, sender_host: null, last_msg_age_ms: null }',
      ),
    exampleCall: "instance.position('db2')",
    testingImports: [],
  },
  replica_selection: {
    configKey: '[failover] selection_method',
    section: 'failover',
    key: 'selection_method',
    methods:
      '      select(candidates) {\n' +
      "        return { ordered: [], excluded: candidates.map((candidate) => ({ name: candidate.name, reason: notWritten('select') })) };\n" +
      '      },\n',
    exampleCall: "instance.select([testCandidate('db2')])",
    testingImports: ['testCandidate'],
  },
  connection_failover: {
    configKey: '[failover] connection_failover_method',
    section: 'failover',
    key: 'connection_failover_method',
    methods:
      failing('init()', "'init()'") +
      failing('pause()', "'pause()'") +
      failing('failover(newMaster)', '`failover(${newMaster})`') +
      failing('resume()', "'resume()'") +
      failing('poll()', "'poll()'", '{ proxies: {} }'),
    exampleCall: "instance.failover('db2')",
    testingImports: [],
  },
  archive: {
    configKey: '[archive] archive_script_method',
    section: 'archive',
    key: 'archive_script_method',
    methods: serverMethods(['pushScript', 'start', 'stop', 'poll']),
    exampleCall: "instance.poll('db1')",
    testingImports: [],
  },
  archive_cleanup: {
    configKey: '[archive] archive_delete_method',
    section: 'archive',
    key: 'archive_delete_method',
    methods: failing('cleanup()', "'cleanup()'"),
    exampleCall: 'instance.cleanup()',
    testingImports: [],
  },
  alert: {
    configKey: '[handyrep] push_alert_method',
    section: 'handyrep',
    key: 'push_alert_method',
    methods: failing('send(alert)', '`send(${alert.type})`'),
    exampleCall: "instance.send({ type: 'failover_started', severity: 'critical', message: 'failover from db1 started', at: Date.now() })",
    testingImports: [],
  },
  authentication: {
    configKey: '[handyrep] authentication_method',
    section: 'handyrep',
    key: 'authentication_method',
    methods: "      async authenticate() {\n        return { authenticated: false, details: notWritten('authenticate()') };\n      },\n",
    exampleCall: "instance.authenticate({ username: 'admin', password: 'not-a-real-password' })",
    testingImports: [],
  },
  hr_master: {
    configKey: '[handyrep] master_check_method',
    section: 'handyrep',
    key: 'master_check_method',
    methods: "      async check() {\n        return { acting: false, acting_instance: null, details: notWritten('check()') };\n      },\n",
    exampleCall: 'instance.check()',
    testingImports: [],
  },
  fencing: {
    configKey: '[failover] fencing_method',
    section: 'failover',
    key: 'fencing_method',
    methods: failing('fence(server)', '`fence(${server})`', '{ fenced: false }'),
    exampleCall: "instance.fence('db1')",
    testingImports: [],
  },
};
