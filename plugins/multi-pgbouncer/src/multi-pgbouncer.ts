import { fail, success } from '@handyrep/plugin-sdk';
import type { ConnectionFailoverPlugin, PluginContext, ReturnDictionary } from '@handyrep/plugin-sdk';
import type { MultiPgbouncerConfig } from './config.js';
import { databaseAliases } from './names.js';
import type { DatabaseAlias } from './names.js';
import { ProxyActions } from './proxy-actions.js';
import type { ProxyResult, RepointMode } from './proxy-actions.js';
import { SqlProxyConsole } from './proxy-console.js';
import { PsqlProxyConsole } from './psql-console.js';
import { routingPlan } from './routing.js';
import type { Endpoint, RoutingPlan } from './routing.js';
import { describeError } from './text.js';

/** Server roles this plugin manages. */
const PROXY_ROLES = ['pgbouncer', 'proxy'];

/** What every method returns: the overall verdict plus each proxy's own. */
export type MultiPgbouncerResult = ReturnDictionary<{
  /** Each enabled proxy's result, by server name. */
  proxies: Record<string, ProxyResult>;
  /** Wall time of the whole call. */
  duration_ms: number;
}>;

/** failover() and init() also say where they pointed the proxies. */
export type RepointResult = MultiPgbouncerResult & {
  /** The server read-write aliases point at (null when nothing could be planned). */
  master: string | null;
  /** The server read-only aliases point at. */
  readonly_target: string | null;
};

/**
 * multi_pgbouncer: every enabled pgbouncer/proxy server routes each database
 * in database_list to the master and its read-only alias to the best
 * replica. All proxies are handled at once; each reports on its own.
 */
export class MultiPgbouncer implements ConnectionFailoverPlugin {
  private readonly aliases: DatabaseAlias[];
  private readonly actions: ProxyActions;

  /** Throws BadArgumentError for a database name or suffix that is not letters, digits and underscores. */
  constructor(private readonly context: PluginContext<MultiPgbouncerConfig>) {
    this.aliases = databaseAliases(context.config.database_list, context.config.readonly_suffix);
    const console = context.config.admin_method === 'psql' ? new PsqlProxyConsole(context) : new SqlProxyConsole(context);
    this.actions = new ProxyActions(context, console);
  }

  /** Writes the databases file on every proxy pointing at the current master, RELOADs and checks the routing. */
  async init(): Promise<RepointResult> {
    const master = this.context.servers.master();
    if (master === undefined) return this.repointFailure(this.context.clock.now(), 'no enabled master in the registry; nothing written');
    return this.repoint(master.name, 'init');
  }

  /** PAUSEs the read-write databases (and read-only ones routed to the master) on every proxy. */
  async pause(): Promise<MultiPgbouncerResult> {
    const started = this.context.clock.now();
    const master = this.context.servers.master();
    const endpoint: Endpoint | undefined = master === undefined ? undefined : { server: master.name, host: master.hostname, port: master.port };
    return this.overProxies('pause', started, (proxy) => this.actions.pause(proxy, this.aliases, endpoint), (ok, failed) =>
      failed.length > 0
        ? `pause failed on ${failed.join('; ')}${ok.length > 0 ? `; paused on ${ok.join(', ')} (call resume() if the switch is abandoned)` : ''}`
        : `paused on ${ok.join(', ')}`,
    );
  }

  /** Repoints every proxy at `newMaster` (read-only aliases at the best other replica), then RESUMEs. FAIL names each proxy not repointed. */
  async failover(newMaster: string): Promise<RepointResult> {
    if (typeof newMaster !== 'string' || newMaster === '') {
      return this.repointFailure(this.context.clock.now(), 'failover needs the name of the new master; nothing done');
    }
    return this.repoint(newMaster, 'failover');
  }

  /** RESUMEs every database on every proxy. */
  async resume(): Promise<MultiPgbouncerResult> {
    return this.overProxies('resume', this.context.clock.now(), (proxy) => this.actions.resume(proxy, this.aliases), (ok, failed) =>
      failed.length > 0 ? `resume failed on ${failed.join('; ')}` : `resumed on ${ok.join(', ')}`,
    );
  }

  /** Connects through every proxy to every database alias. */
  async poll(): Promise<MultiPgbouncerResult> {
    return this.overProxies('poll', this.context.clock.now(), (proxy) => this.actions.poll(proxy, this.aliases), (ok, failed) =>
      failed.length > 0 ? `proxies with problems: ${failed.join('; ')}` : `every database answers through ${ok.join(', ')}`,
    );
  }

  private async repoint(masterName: string, mode: RepointMode): Promise<RepointResult> {
    const started = this.context.clock.now();
    let plan: RoutingPlan;
    try {
      plan = routingPlan(this.context.servers, masterName, this.aliases);
    } catch (err) {
      return this.repointFailure(started, `cannot route to ${masterName}: ${describeError(err, this.context.secrets)}; nothing done`);
    }
    const verb = mode === 'init' ? 'initialized' : 'repointed';
    const result = await this.overProxies(mode, started, (proxy) => this.actions.repoint(proxy, plan, mode), (ok, failed) => {
      const target = `${plan.master.server} (read-only: ${plan.readonlyTarget.server})`;
      if (failed.length === 0) return `${verb} ${ok.join(', ')} at ${target}; ${plan.readonlyReason}`;
      return `could not repoint ${failed.join('; ')}${ok.length > 0 ? `; ${verb} ${ok.join(', ')} at ${target}` : ''}`;
    });
    return { ...result, master: plan.master.server, readonly_target: plan.readonlyTarget.server };
  }

  private repointFailure(started: number, details: string): RepointResult {
    this.context.logger.error(details);
    return fail(details, { proxies: {}, duration_ms: this.context.clock.now() - started, master: null, readonly_target: null });
  }

  /** Runs `work` on every enabled proxy at once and sums up: FAIL when any proxy failed. */
  private async overProxies(
    action: string,
    started: number,
    work: (proxy: string) => Promise<ProxyResult>,
    summary: (ok: string[], failed: string[]) => string,
  ): Promise<MultiPgbouncerResult> {
    const names = this.context.servers.byRole(...PROXY_ROLES).map((server) => server.name);
    if (names.length === 0) {
      return success('no enabled pgbouncer or proxy server: nothing to do', { proxies: {}, duration_ms: this.context.clock.now() - started });
    }
    const results = await Promise.all(names.map((name) => work(name)));
    const proxies: Record<string, ProxyResult> = {};
    const ok: string[] = [];
    const failed: string[] = [];
    names.forEach((name, index) => {
      const result = results[index];
      if (result === undefined) return;
      proxies[name] = result;
      if (result.result === 'SUCCESS') ok.push(name);
      else failed.push(`${name} (${result.details})`);
      const line = `${action} ${name}: ${result.result} ${result.details}`;
      if (result.result === 'SUCCESS') this.context.logger.info(line, { proxy: name, duration_ms: result.duration_ms });
      else this.context.logger.error(line, { proxy: name, duration_ms: result.duration_ms });
    });
    const details = summary(ok, failed);
    const duration = this.context.clock.now() - started;
    return failed.length > 0 ? fail(details, { proxies, duration_ms: duration }) : success(details, { proxies, duration_ms: duration });
  }
}
