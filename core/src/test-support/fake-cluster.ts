import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach } from 'node:test';
import { fail, success } from '@handyrep/plugin-sdk';
import type {
  Alert,
  CloneRequest,
  CloneResult,
  ControlResult,
  FenceResult,
  HrMasterDecision,
  PluginContext,
  PluginKind,
  PollResult,
  ReplicaCandidate,
  ReplicaLag,
  ReplicaPosition,
  ReplicaSelection,
  ReturnDictionary,
  SqlRow,
} from '@handyrep/plugin-sdk';
import { FakeClock, FakeShell, FakeSql } from '@handyrep/plugin-sdk/testing';
import type { RecordedQuery } from '@handyrep/plugin-sdk/testing';
import type { InjectionToken } from 'tsyringe';
import { HandyRep } from '../handyrep.js';
import type { Runtime } from '../runtime.js';

/**
 * A fake PostgreSQL cluster for unit tests of the failover core: every
 * server's state lives in memory, and HandyRep reaches it through the real
 * DI container with a fake shell, SQL client and clock (HandyRep.open's
 * `capabilities`) and fake plugins written to a temporary directory. The
 * plugins only delegate to the cluster object (found through a global map by
 * the `cluster` key of their config section), so a test changes what a
 * plugin does by setting a hook.
 */

/** What a server's PostgreSQL port does: accepts, refuses (nothing listens), or says nothing (hung host, partition). */
export type PgState = 'up' | 'down' | 'silent';
/** What its SSH does. */
export type SshState = 'ok' | 'refused' | 'unreachable' | 'timeout';

/** One fake server. */
export interface FakeServer {
  name: string;
  hostname: string;
  pg: PgState;
  inRecovery: boolean;
  /** Out of recovery but refuses writes (e.g. a full disk). */
  readOnly: boolean;
  ssh: SshState;
  /** Last WAL position received (replicas) or current position (master). */
  lsn: string;
  /** The server name it streams from (replicas), null for none. */
  upstream: string | null;
  /** How long ago its WAL receiver last heard from its upstream. */
  lastMsgAgeMs: number;
  /** Its synchronous_standby_names (applied at once by ALTER SYSTEM; the reload is implied). */
  synchronousStandbyNames: string;
  /** Settings waiting for a restart (pg_settings.pending_restart); a restart clears them. */
  pendingRestart: string[];
}

/** Something a fake plugin or the fake SQL/shell was asked to do, with the fake clock's and the real clock's time. */
export interface FakeEvent {
  /** Fake clock (ms since the epoch). */
  at: number;
  /** performance.now() when it happened. */
  realMs: number;
  /** e.g. `poll`, `promote`, `faststop`, `alert failover_started`, `sql`. */
  what: string;
  server?: string;
  detail?: string;
}

type Fallback<T> = () => Promise<T>;

/** Replacements of the fake plugins' default behaviour; each gets the server and the default behaviour. */
export interface FakeHooks {
  poll?: (server: string, fallback: Fallback<PollResult>) => Promise<PollResult>;
  position?: (server: string, fallback: Fallback<ReplicaPosition>) => Promise<ReplicaPosition>;
  /** Lag of a replica as measured on the master (verify_replica). */
  lag?: (replica: string, fallback: Fallback<ReplicaLag>) => Promise<ReplicaLag>;
  promote?: (server: string, fallback: Fallback<ReturnDictionary>) => Promise<ReturnDictionary>;
  faststop?: (server: string, fallback: Fallback<ControlResult>) => Promise<ControlResult>;
  stop?: (server: string, fallback: Fallback<ControlResult>) => Promise<ControlResult>;
  status?: (server: string, fallback: Fallback<ControlResult & { running: boolean }>) => Promise<ControlResult & { running: boolean }>;
  select?: (candidates: readonly ReplicaCandidate[], fallback: () => ReplicaSelection) => ReplicaSelection;
  alert?: (alert: Alert, fallback: Fallback<ReturnDictionary>) => Promise<ReturnDictionary>;
  fence?: (server: string, fallback: Fallback<FenceResult>) => Promise<FenceResult>;
  /** pg_rewind of a former master (clone plugin); the default makes it a replica of the source, not started. */
  rewind?: (server: string, fallback: Fallback<CloneResult>) => Promise<CloneResult>;
  /** A (re)clone (clone plugin); the default makes the target a replica of the source, not started. */
  clone?: (server: string, fallback: Fallback<CloneResult>) => Promise<CloneResult>;
  hrMaster?: () => Promise<HrMasterDecision>;
  /** Called before every SQL statement is answered (may throw, or wait). */
  sql?: (query: RecordedQuery) => Promise<void> | void;
}

/** What to build. */
export interface FakeClusterOptions {
  /** Servers, in order; the first master-role server is the master. Default pg1 (master), pg2, pg3 (replicas). */
  servers?: { name: string; role: string; props?: Record<string, string | number | boolean> }[];
  /** Extra config lines by section, e.g. `{ failover: { fail_retries: 3 } }`. */
  config?: Record<string, Record<string, string | number | boolean>>;
  /** Configure a fencing plugin ([failover] fencing_method). */
  fencing?: boolean;
  /** Configure a master_check_method plugin (acting guard) answering through `hooks.hrMaster`. */
  hrMaster?: boolean;
  /** Configure a clone plugin ([server_defaults] clone_method) answering through `hooks.rewind` and `hooks.clone`. */
  clone?: boolean;
  /** Put the server file in a subdirectory `state/` (so a test can break the directory). */
  stateSubdir?: boolean;
}

/** The fake clock's start: 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1);

const CLUSTERS_KEY = Symbol.for('handyrep.test.fakeClusters');

function clusters(): Map<string, FakeCluster> {
  const holder = globalThis as unknown as Record<symbol, Map<string, FakeCluster> | undefined>;
  holder[CLUSTERS_KEY] ??= new Map();
  return holder[CLUSTERS_KEY];
}

let nextId = 0;

const PLUGINS: { kind: PluginKind; name: string; dir: string }[] = [
  { kind: 'poll', name: 'fake_poll', dir: 'fake-poll' },
  { kind: 'replication_status', name: 'fake_replication_status', dir: 'fake-replication-status' },
  { kind: 'replica_selection', name: 'fake_selection', dir: 'fake-selection' },
  { kind: 'control', name: 'fake_control', dir: 'fake-control' },
  { kind: 'promotion', name: 'fake_promotion', dir: 'fake-promotion' },
  { kind: 'alert', name: 'fake_alert', dir: 'fake-alert' },
  { kind: 'fencing', name: 'fake_fencing', dir: 'fake-fencing' },
  { kind: 'hr_master', name: 'fake_hr_master', dir: 'fake-hr-master' },
  { kind: 'clone', name: 'fake_clone', dir: 'fake-clone' },
];

function pluginSource(kind: PluginKind, name: string): string {
  const sdk = import.meta.resolve('@handyrep/plugin-sdk');
  return [
    `import { definePlugin } from ${JSON.stringify(sdk)};`,
    'export const plugin = definePlugin({',
    `  kind: ${JSON.stringify(kind)},`,
    `  name: ${JSON.stringify(name)},`,
    "  description: 'fake plugin of the unit tests: delegates to a FakeCluster',",
    "  configSchema: { type: 'object', properties: { cluster: { type: 'string' } }, required: ['cluster'], additionalProperties: false },",
    `  create: (context) => globalThis[Symbol.for('handyrep.test.fakeClusters')].get(context.config.cluster).instance(${JSON.stringify(kind)}, context),`,
    '});',
    '',
  ].join('\n');
}

function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function iniValue(value: string | number | boolean): string {
  return String(value);
}

/** A fake cluster plus the HandyRep opened on it. */
export class FakeCluster {
  readonly id = `fake-${process.pid}-${nextId++}`;
  readonly clock = new FakeClock(T0);
  readonly shell = new FakeShell();
  readonly sql = new FakeSql();
  readonly servers = new Map<string, FakeServer>();
  readonly events: FakeEvent[] = [];
  readonly hooks: FakeHooks = {};
  /** Set by open(). */
  hr!: HandyRep;
  dir = '';
  configFile = '';
  serverFile = '';
  /** The directory holding the server file (its own subdirectory with `stateSubdir`). */
  stateDir = '';

  private constructor(private readonly options: FakeClusterOptions) {
    const defs = options.servers ?? [
      { name: 'pg1', role: 'master' },
      { name: 'pg2', role: 'replica', props: { failover_priority: 1 } },
      { name: 'pg3', role: 'replica', props: { failover_priority: 2 } },
    ];
    const master = defs.find((def) => def.role === 'master')?.name ?? null;
    defs.forEach((def, index) => {
      this.servers.set(def.name, {
        name: def.name,
        hostname: typeof def.props?.['hostname'] === 'string' ? (def.props['hostname'] as string) : `h${index + 1}`,
        pg: 'up',
        inRecovery: def.role === 'replica',
        readOnly: false,
        ssh: 'ok',
        lsn: '0/3000000',
        upstream: def.role === 'replica' ? master : null,
        lastMsgAgeMs: 10,
        synchronousStandbyNames: '',
        pendingRestart: [],
      });
    });
    this.defs = defs;
    this.sql.respond((query) => this.answerSql(query));
    // hooks.sql may delay or fail a statement (FakeSql's responders are synchronous); withSession goes through this too.
    const answer = this.sql.query.bind(this.sql);
    this.sql.query = (async (target: RecordedQuery['target'], text: string, params: readonly unknown[] = []) => {
      await this.hooks.sql?.({ target, text, params });
      return answer(target, text, params);
    }) as FakeSql['query'];
    this.shell.respond((command) => {
      if (command.server === 'local') return undefined;
      const server = this.servers.get(command.server);
      this.record('ssh', command.server, command.command);
      switch (server?.ssh) {
        case 'ok':
          return undefined;
        case 'refused':
          return networkError('ECONNREFUSED', `connect ECONNREFUSED ${server.hostname}:22`);
        case 'unreachable':
          return networkError('EHOSTUNREACH', `connect EHOSTUNREACH ${server.hostname}:22`);
        default:
          return networkError('ETIMEDOUT', `ssh to ${command.server} timed out`);
      }
    });
  }

  private readonly defs: NonNullable<FakeClusterOptions['servers']>;

  /** Builds the cluster, writes the plugins and the config, and opens HandyRep on it. */
  static async open(options: FakeClusterOptions = {}): Promise<FakeCluster> {
    const cluster = new FakeCluster(options);
    clusters().set(cluster.id, cluster);
    try {
      await cluster.writeFiles();
      cluster.hr = await HandyRep.open(cluster.configFile, { capabilities: { shell: cluster.shell, sql: cluster.sql, clock: cluster.clock } });
    } catch (err) {
      clusters().delete(cluster.id);
      if (cluster.dir) await rm(cluster.dir, { recursive: true, force: true });
      throw err;
    }
    return cluster;
  }

  private async writeFiles(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'handyrep-fake-cluster-'));
    const pluginPath = new Map<PluginKind, string>();
    for (const plugin of PLUGINS) {
      const dir = join(this.dir, 'plugins', plugin.dir);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `fixture-${plugin.dir}`, version: '1.0.0', type: 'module', main: 'index.js' }));
      await writeFile(join(dir, 'index.js'), pluginSource(plugin.kind, plugin.name));
      pluginPath.set(plugin.kind, dir);
    }
    this.stateDir = this.options.stateSubdir ? join(this.dir, 'state') : this.dir;
    if (this.options.stateSubdir) await mkdir(this.stateDir);
    this.serverFile = join(this.stateDir, 'servers.save');
    const used: PluginKind[] = ['poll', 'replication_status', 'replica_selection', 'control', 'promotion', 'alert'];
    if (this.options.fencing) used.push('fencing');
    if (this.options.hrMaster) used.push('hr_master');
    if (this.options.clone) used.push('clone');
    const path = (kind: PluginKind): string => pluginPath.get(kind) as string;
    const sections: Record<string, Record<string, string | number | boolean>> = {
      handyrep: {
        log_file: 'handyrep.log',
        server_file: this.serverFile,
        connect_timeout: 1,
        plugin_timeout: 5,
        push_alert_method: path('alert'),
        ...(this.options.hrMaster ? { master_check_method: path('hr_master') } : {}),
      },
      failover: {
        auto_failover: true,
        poll_method: path('poll'),
        replication_status_method: path('replication_status'),
        selection_method: path('replica_selection'),
        fail_retries: 3,
        fail_retry_interval: 5,
        promotion_timeout: 5,
        ...(this.options.fencing ? { fencing_method: path('fencing') } : {}),
      },
      server_defaults: { restart_method: path('control'), promotion_method: path('promotion'), ...(this.options.clone ? { clone_method: path('clone') } : {}) },
    };
    for (const [section, values] of Object.entries(this.options.config ?? {})) sections[section] = { ...(sections[section] ?? {}), ...values };
    this.defs.forEach((def) => {
      const server = this.servers.get(def.name) as FakeServer;
      sections[`servers.${def.name}`] = { hostname: server.hostname, role: def.role, ...(def.props ?? {}) };
    });
    for (const kind of used) {
      const name = PLUGINS.find((plugin) => plugin.kind === kind)?.name as string;
      sections[`plugins.${name}`] = { cluster: this.id };
    }
    const lines: string[] = [];
    for (const [section, values] of Object.entries(sections)) {
      lines.push(`[${section}]`);
      for (const [key, value] of Object.entries(values)) lines.push(`${key} = ${iniValue(value)}`);
    }
    this.configFile = join(this.dir, 'handyrep.conf');
    await writeFile(this.configFile, `${lines.join('\n')}\n`);
  }

  /** Closes HandyRep and removes the temporary directory. */
  async close(): Promise<void> {
    try {
      await this.hr?.close();
    } finally {
      clusters().delete(this.id);
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /**
   * Closes HandyRep and opens a new one on the same config, server file and
   * fakes (a restart); `edit` may change the saved state in between (e.g. the
   * journal a process that died mid-failover left behind).
   */
  async reopen(edit?: (state: { servers: Record<string, { definition: Record<string, unknown> }>; extra: Record<string, unknown> }) => void): Promise<void> {
    await this.hr.close();
    if (edit) {
      const state = JSON.parse(await readFile(this.serverFile, 'utf8'));
      edit(state);
      await writeFile(this.serverFile, JSON.stringify(state, null, 2));
    }
    this.hr = await HandyRep.open(this.configFile, { capabilities: { shell: this.shell, sql: this.sql, clock: this.clock } });
  }

  /** The runtime behind the HandyRep (private there; the tests reach its container through it). */
  get runtime(): Runtime {
    return (this.hr as unknown as { runtime: Runtime }).runtime;
  }

  /** A service of this instance's DI container. */
  resolve<T>(token: InjectionToken<T>): T {
    return this.runtime.container.resolve(token);
  }

  /** The server file as it is on disk now. */
  async savedState(): Promise<{ servers: Record<string, { definition: Record<string, unknown>; status: Record<string, unknown> }>; extra: Record<string, unknown> }> {
    return JSON.parse(await readFile(this.serverFile, 'utf8'));
  }

  /** The fake server `name`. */
  server(name: string): FakeServer {
    const server = this.servers.get(name);
    if (!server) throw new Error(`no fake server ${name}`);
    return server;
  }

  /** Makes a server's PostgreSQL and SSH behave as given. */
  set(name: string, change: Partial<FakeServer>): void {
    Object.assign(this.server(name), change);
  }

  /** The master's host gone for good: port refuses, SSH refused (the "certain death" evidence). */
  kill(name: string): void {
    this.set(name, { pg: 'down', ssh: 'refused' });
  }

  /** Records an event. */
  record(what: string, server?: string, detail?: string): void {
    this.events.push({ at: this.clock.now(), realMs: performance.now(), what, ...(server === undefined ? {} : { server }), ...(detail === undefined ? {} : { detail }) });
  }

  /** The servers `what` was done to, in order. */
  calls(what: string): string[] {
    return this.events.filter((event) => event.what === what).map((event) => event.server ?? '');
  }

  /** The events named `what` (all of them when omitted). */
  eventsOf(what?: string): FakeEvent[] {
    return what === undefined ? [...this.events] : this.events.filter((event) => event.what === what);
  }

  /** Alerts the fake alert plugin received, by type. */
  alerts(type?: string): FakeEvent[] {
    return this.events.filter((event) => (type === undefined ? event.what.startsWith('alert ') : event.what === `alert ${type}`));
  }

  // ---- the fake plugins ----

  /** Builds the instance of a fake plugin of `kind` (called by the plugin files' create). */
  instance(kind: PluginKind, _context: PluginContext): object {
    switch (kind) {
      case 'poll':
        return {
          poll: (server: string) => {
            this.record('poll', server, this.server(server).pg);
            return this.hook(this.hooks.poll, server, async () => this.poll(server));
          },
        };
      case 'replication_status':
        return {
          lag: (_master: string, replica: string) =>
            this.hook(this.hooks.lag, replica, async (): Promise<ReplicaLag> => success('lag', { lag_bytes: 0, lag_mb: 0, connected: this.streaming(replica) })),
          position: (server: string) => {
            this.record('position', server);
            return this.hook(this.hooks.position, server, async () => this.position(server));
          },
        };
      case 'replica_selection':
        return {
          select: (candidates: readonly ReplicaCandidate[]): ReplicaSelection => {
            this.record('select', undefined, candidates.map((candidate) => candidate.name).join(','));
            const fallback = (): ReplicaSelection => this.select(candidates);
            return this.hooks.select ? this.hooks.select(candidates, fallback) : fallback();
          },
        };
      case 'control': {
        const command = (method: 'start' | 'stop' | 'faststop' | 'restart' | 'reload', effect: (server: string) => void, hooked?: 'stop' | 'faststop') => (server: string) => {
          this.record(method, server);
          return this.hook(hooked ? this.hooks[hooked] : undefined, server, async () => this.controlled(server, () => effect(server)));
        };
        return {
          start: command('start', (server) => this.set(server, { pg: 'up' })),
          stop: command('stop', (server) => this.set(server, { pg: 'down' }), 'stop'),
          faststop: command('faststop', (server) => this.set(server, { pg: 'down' }), 'faststop'),
          restart: command('restart', (server) => this.set(server, { pg: 'up', pendingRestart: [] })),
          reload: command('reload', () => undefined),
          status: (server: string) => {
            this.record('status', server);
            return this.hook(this.hooks.status, server, async () => {
              const fake = this.server(server);
              if (fake.ssh !== 'ok') return fail(`ssh to ${server}: ${fake.ssh}`, { running: false });
              return success(fake.pg === 'down' ? 'not running' : 'running', { running: fake.pg !== 'down' });
            });
          },
        };
      }
      case 'promotion':
        return {
          promote: (server: string) => {
            this.record('promote', server);
            return this.hook(this.hooks.promote, server, async () => this.promote(server));
          },
        };
      case 'alert':
        return {
          send: (alert: Alert) => {
            this.record(`alert ${alert.type}`, alert.server, alert.message);
            const fallback = async (): Promise<ReturnDictionary> => success('delivered');
            return this.hooks.alert ? this.hooks.alert(alert, fallback) : fallback();
          },
        };
      case 'fencing':
        return {
          fence: (server: string) => {
            this.record('fence', server);
            return this.hook(this.hooks.fence, server, async (): Promise<FenceResult> => {
              this.set(server, { pg: 'down' });
              return success('powered off', { fenced: true });
            });
          },
        };
      case 'clone': {
        const copy = (method: 'rewind' | 'clone') => (request: CloneRequest | { target: string; source: string }) => {
          this.record(method, request.target, request.source);
          return this.hook(this.hooks[method], request.target, async (): Promise<CloneResult> => {
            this.set(request.target, { pg: 'down', inRecovery: true, upstream: request.source });
            return success(`${request.target} follows ${request.source} (fake ${method})`, { duration_ms: 1 });
          });
        };
        return { clone: copy('clone'), rewind: copy('rewind') };
      }
      case 'hr_master':
        return {
          check: async (): Promise<HrMasterDecision> => (this.hooks.hrMaster ? this.hooks.hrMaster() : { acting: true, acting_instance: 'me', details: 'fake: acting' }),
        };
      default:
        throw new Error(`no fake plugin of kind ${kind}`);
    }
  }

  private hook<T>(hook: ((server: string, fallback: Fallback<T>) => Promise<T>) | undefined, server: string, fallback: Fallback<T>): Promise<T> {
    return hook ? hook(server, fallback) : fallback();
  }

  /** A control command that needs SSH to the host. */
  private controlled(server: string, effect: () => void): ControlResult {
    const fake = this.server(server);
    if (fake.ssh !== 'ok') return fail(`ssh to ${server}: ${fake.ssh}`, { exit_code: null });
    effect();
    return success('done', { exit_code: 0 });
  }

  private async poll(server: string): Promise<PollResult> {
    const fake = this.server(server);
    if (fake.pg === 'up') return success('accepting connections', { state: 'accepting', in_recovery: fake.inRecovery, duration_ms: 1 });
    if (fake.pg === 'down') return fail('connection refused', { state: 'no_response', failure: 'refused', duration_ms: 1 });
    return fail('no response within the time-out', { state: 'no_response', failure: 'timeout', duration_ms: 1 });
  }

  /** Whether `server` streams from its upstream right now. */
  streaming(server: string): boolean {
    const fake = this.server(server);
    return fake.pg === 'up' && fake.inRecovery && fake.upstream !== null && this.servers.get(fake.upstream)?.pg === 'up';
  }

  private async position(server: string): Promise<ReplicaPosition> {
    const fake = this.server(server);
    const none = { received_lsn: null, replayed_lsn: null, in_recovery: false, receiver_status: null, sender_host: null, last_msg_age_ms: null };
    if (fake.pg !== 'up') return fail(`${server} does not answer`, none);
    const streams = this.streaming(server);
    return success('position', {
      received_lsn: fake.lsn,
      replayed_lsn: fake.lsn,
      in_recovery: fake.inRecovery,
      receiver_status: streams ? 'streaming' : null,
      sender_host: streams ? this.server(fake.upstream as string).hostname : null,
      last_msg_age_ms: streams ? fake.lastMsgAgeMs : null,
    });
  }

  private select(candidates: readonly ReplicaCandidate[]): ReplicaSelection {
    const eligible = candidates.filter((candidate) => candidate.reachable && candidate.in_recovery && !candidate.nofailover);
    const ordered = [...eligible].sort((a, b) => a.failover_priority - b.failover_priority || a.name.localeCompare(b.name)).map((candidate) => candidate.name);
    return { ordered, excluded: candidates.filter((candidate) => !eligible.includes(candidate)).map((candidate) => ({ name: candidate.name, reason: 'not eligible' })) };
  }

  private promote(server: string): ReturnDictionary {
    const fake = this.server(server);
    if (fake.pg !== 'up') return fail(`${server} is not running`, { promote_sent: false });
    fake.inRecovery = false;
    fake.upstream = null;
    return success(`${server} promoted`);
  }

  // ---- the fake SQL client ----

  private answerSql(query: RecordedQuery): SqlRow[] | Error | undefined {
    const name = query.target.server;
    this.record('sql', name, query.text);
    const fake = this.servers.get(name);
    if (!fake) return new Error(`no fake server ${name}`);
    if (fake.pg === 'down') return networkError('ECONNREFUSED', `connect ECONNREFUSED ${fake.hostname}:5432`);
    if (fake.pg === 'silent') return networkError('ETIMEDOUT', `connect ETIMEDOUT ${fake.hostname}:5432`);
    const text = query.text;
    if (/current_setting\('server_version_num'\)/.test(text)) {
      const upstream = fake.upstream ? this.server(fake.upstream) : undefined;
      return [
        {
          version: '160000',
          conninfo: upstream ? `host=${upstream.hostname} port=5432 user=replicator application_name=${name}` : '',
          in_recovery: fake.inRecovery,
          data_directory: '/var/lib/postgresql/16/main',
        },
      ];
    }
    if (/pg_is_in_recovery\(\)/.test(text)) return [{ in_recovery: fake.inRecovery }];
    if (/^(CREATE TEMP TABLE|INSERT INTO) handyrep_/.test(text)) {
      if (fake.inRecovery || fake.readOnly) return new Error('cannot execute CREATE TABLE in a read-only transaction');
      return [];
    }
    if (/pg_current_wal_lsn\(\)/.test(text)) return [{ lsn: fake.lsn }];
    if (/^SELECT current_setting\(\$1\) AS value$/.test(text)) {
      const setting = query.params[0];
      if (setting === 'synchronous_standby_names') return [{ value: fake.synchronousStandbyNames }];
      if (setting === 'primary_conninfo') {
        const upstream = fake.upstream ? this.server(fake.upstream) : undefined;
        return [{ value: upstream ? `host=${upstream.hostname} port=5432 user=replicator application_name=${name}` : '' }];
      }
      return [{ value: '' }];
    }
    const standbyNames = /ALTER SYSTEM SET synchronous_standby_names = E?'((?:[^']|'')*)'/.exec(text);
    if (standbyNames) {
      fake.synchronousStandbyNames = (standbyNames[1] ?? '').replace(/''/g, "'");
      return [];
    }
    if (/FROM pg_stat_replication/.test(text)) {
      return [...this.servers.values()]
        .filter((replica) => replica.upstream === name && this.streaming(replica.name))
        // A streaming standby of an idle fake master has flushed everything the master wrote.
        .map((replica) => ({ name: replica.name, lsn: fake.lsn, state: 'streaming', replay: replica.lsn }));
    }
    if (/FROM pg_settings WHERE pending_restart/.test(text)) return fake.pendingRestart.map((setting) => ({ name: setting }));
    if (/count\(\*\)::int AS n FROM pg_stat_wal_receiver/.test(text)) return [{ n: this.streaming(name) ? 1 : 0 }];
    const conninfo = /ALTER SYSTEM SET primary_conninfo = E?'((?:[^']|'')*)'/.exec(text);
    if (conninfo) {
      const host = /host=(\S+)/.exec(conninfo[1] ?? '')?.[1];
      fake.upstream = [...this.servers.values()].find((server) => server.hostname === host)?.name ?? null;
      return [];
    }
    if (/FROM pg_stat_wal_receiver/.test(text)) {
      return this.streaming(name) ? [{ status: 'streaming', sender_host: this.server(fake.upstream as string).hostname }] : [];
    }
    return [];
  }
}

/**
 * One fake cluster per test: returns `open(options)`, and closes the cluster
 * the last call opened after each test (node:test's afterEach).
 */
export function fakeClusterPerTest(): (options?: FakeClusterOptions) => Promise<FakeCluster> {
  let cluster: FakeCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });
  return async (options: FakeClusterOptions = {}) => {
    cluster = await FakeCluster.open(options);
    return cluster;
  };
}
