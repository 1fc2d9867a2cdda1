import type { PluginContext } from '../capabilities/plugin-context.js';
import type { ClusterKind, PerServerKind, PluginDirectory } from '../capabilities/plugin-directory.js';
import type { Secrets } from '../capabilities/secrets.js';
import type { ServerView } from '../capabilities/server-view.js';
import { ErrorCodes, HandyRepError, UnknownServerError } from '../errors.js';
import type { PluginKind, PluginKindMap } from '../kinds/plugin-kind.js';
import type { ServerDefinition } from '../server-definition.js';
import { FakeClock } from './fake-clock.js';
import { FakeShell } from './fake-shell.js';
import { FakeSql } from './fake-sql.js';
import { MemoryLogger } from './memory-logger.js';

/** A server for tests: only `name` is required, the rest gets harmless defaults. */
export type TestServer = Partial<ServerDefinition> & { name: string };

/** What to put in a test context. */
export interface TestContextOptions<Config> {
  /** Plugin name (default `test_plugin`). */
  name?: string;
  /** The plugin's config section as the core would hand it over (defaults already applied). */
  config?: Config;
  /** Servers in the registry. */
  servers?: TestServer[];
  /** `[passwords]`. */
  secrets?: Record<string, string>;
  /** Core settings by section, e.g. `{ handyrep: { postgres_superuser: 'postgres' } }`. */
  settings?: Record<string, Record<string, unknown>>;
  /** Other plugins: per-server ones by `kind:server`, cluster-wide ones by kind. */
  plugins?: { perServer?: Record<string, unknown>; active?: Partial<PluginKindMap> };
}

/** A plugin context made of fakes, plus handles on the fakes for assertions. */
export interface TestContext<Config> {
  /** Pass this to the plugin's `create`. */
  context: PluginContext<Config>;
  /** Records commands; script answers with `when`/`respond`. */
  shell: FakeShell;
  /** Records statements; script answers with `when`/`respond`. */
  sql: FakeSql;
  /** Deterministic time. */
  clock: FakeClock;
  /** Captured log lines. */
  logger: MemoryLogger;
}

/** Fills a test server's missing fields. */
export function testServer(server: TestServer): ServerDefinition {
  return {
    hostname: server.name,
    role: 'replica',
    enabled: true,
    port: 5432,
    status: 'unknown',
    status_no: 0,
    status_ts: '',
    status_message: '',
    ...server,
  };
}

/** A ServerView over a fixed list of servers. */
export function staticServerView(servers: readonly ServerDefinition[]): ServerView {
  const byName = new Map(servers.map((server) => [server.name, server]));
  return {
    get(name) {
      const found = byName.get(name);
      if (!found) throw new UnknownServerError(name);
      return found;
    },
    has: (name) => byName.has(name),
    list: () => [...servers],
    master: () => servers.find((server) => server.enabled && server.role === 'master'),
    byRole: (...roles) => servers.filter((server) => server.enabled && roles.includes(String(server.role))),
  };
}

/** Builds a plugin context of fakes for unit tests. */
export function createTestContext<Config = Record<string, unknown>>(
  options: TestContextOptions<Config> = {},
): TestContext<Config> {
  const shell = new FakeShell();
  const sql = new FakeSql();
  const clock = new FakeClock();
  const logger = new MemoryLogger();
  const secretValues = options.secrets ?? {};
  const secrets: Secrets = {
    get: (key) => secretValues[key],
    require(key) {
      const value = secretValues[key];
      if (value === undefined) {
        throw new HandyRepError(ErrorCodes.SECRET_MISSING, `password '${key}' is not set in [passwords]`);
      }
      return value;
    },
  };
  const settings = options.settings ?? {};
  const perServer = options.plugins?.perServer ?? {};
  const active = options.plugins?.active ?? {};
  const plugins: PluginDirectory = {
    forServer<K extends PerServerKind>(kind: K, server: string): PluginKindMap[K] {
      const found = perServer[`${kind}:${server}`];
      if (found === undefined) {
        throw new HandyRepError(ErrorCodes.NOT_SUPPORTED, `no ${kind} plugin for server '${server}' in this test`);
      }
      return found as PluginKindMap[K];
    },
    cluster<K extends ClusterKind>(kind: K): PluginKindMap[K] | undefined {
      return active[kind] as PluginKindMap[K] | undefined;
    },
    active<K extends PluginKind>(kind: K): PluginKindMap[K] | undefined {
      return active[kind] as PluginKindMap[K] | undefined;
    },
  };
  const context: PluginContext<Config> = {
    name: options.name ?? 'test_plugin',
    config: (options.config ?? {}) as Config,
    logger,
    servers: staticServerView((options.servers ?? []).map(testServer)),
    settings: { get: (section, key) => settings[section]?.[key] },
    shell,
    sql,
    secrets,
    clock,
    plugins,
  };
  return { context, shell, sql, clock, logger };
}
