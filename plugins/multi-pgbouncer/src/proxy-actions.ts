import { ErrorCodes, fail, hasErrorCode, success } from '@handyrep/plugin-sdk';
import type { PluginContext, ReturnDictionary } from '@handyrep/plugin-sdk';
import type { MultiPgbouncerConfig } from './config.js';
import { renderDatabasesFile } from './databases-file.js';
import type { DatabaseAlias } from './names.js';
import { includeCheckScript, includeLine, INCLUDE_MISSING_EXIT, proxyFiles } from './proxy-files.js';
import type { ProxyFiles } from './proxy-files.js';
import type { ProxyConsole } from './proxy-console.js';
import type { Endpoint, RoutedDatabase, RoutingPlan } from './routing.js';
import { describeLive, liveDatabases, routesTo, routingMismatches } from './show-databases.js';
import type { LiveDatabase } from './show-databases.js';
import { describeError, trimOutput } from './text.js';

/** What one proxy reports: per-database outcomes and how long it took. */
export type ProxyResult = ReturnDictionary<{
  /** Outcome per database alias, in words. */
  databases: Record<string, string>;
  /** Wall time spent on this proxy. */
  duration_ms: number;
}>;

/** One database's outcome on one proxy. */
interface Outcome {
  ok: boolean;
  text: string;
}

/** Why a repoint runs: `init` checks the %include line and resumes only what it killed; `failover` resumes everything. */
export type RepointMode = 'init' | 'failover';

/** pgbouncer's answers that mean "nothing to resume", not a failure. */
const NOT_PAUSED = /is not paused|not paused\/suspended/i;
const NO_SUCH_DATABASE = /no such database/i;

/** The steps on one pgbouncer. No method throws: every failure becomes a FAIL naming the step. */
export class ProxyActions {
  constructor(
    private readonly context: PluginContext<MultiPgbouncerConfig>,
    private readonly console: ProxyConsole,
  ) {}

  /**
   * Writes the plan to the proxy's databases file, RELOADs, checks with SHOW
   * DATABASES that pgbouncer routes every alias as planned, drops the
   * connections of every alias whose target changed (KILL or RECONNECT) and
   * RESUMEs. A proxy that could not be repointed is left paused, so its
   * clients wait instead of reaching the old master.
   */
  async repoint(proxy: string, plan: RoutingPlan, mode: RepointMode): Promise<ProxyResult> {
    const started = this.context.clock.now();
    const done = (rd: ReturnDictionary, databases: Record<string, string> = {}): ProxyResult => ({
      ...rd,
      databases,
      duration_ms: this.context.clock.now() - started,
    });
    let files: ProxyFiles;
    try {
      files = proxyFiles(this.context.servers.get(proxy));
    } catch (err) {
      return done(fail(`${this.error(err)}; nothing done`));
    }
    if (mode === 'init' && files.config !== '') {
      const problem = await this.checkInclude(proxy, files);
      if (problem !== undefined) return done(fail(`${problem}; nothing written`));
    }

    // Where connections go now, to know which aliases change; if the console does not answer, assume all do.
    let before: Map<string, LiveDatabase> | undefined;
    try {
      before = liveDatabases(await this.admin(proxy, 'SHOW DATABASES'));
    } catch {
      before = undefined;
    }

    try {
      await this.context.shell.writeFile(proxy, files.databases, renderDatabasesFile(plan, files.databases), {
        mode: 0o644,
        timeoutMs: this.commandMs(),
      });
    } catch (err) {
      return done(fail(`could not write ${files.databases}: ${this.error(err)}; pgbouncer was not reloaded and not resumed`));
    }
    try {
      await this.admin(proxy, 'RELOAD');
    } catch (err) {
      return done(fail(`wrote ${files.databases} but RELOAD failed: ${this.error(err)}; not resumed`));
    }
    let after: Map<string, LiveDatabase>;
    try {
      after = liveDatabases(await this.admin(proxy, 'SHOW DATABASES'));
    } catch (err) {
      return done(fail(`wrote ${files.databases} and sent RELOAD, but SHOW DATABASES failed: ${this.error(err)}; routing unconfirmed, not resumed`));
    }
    const mismatches = routingMismatches(after, plan.databases);
    if (mismatches.length > 0) {
      const hint = files.config === '' ? `is '${includeLine(files)}' in pgbouncer.ini` : `is '${includeLine(files)}' the last line of ${files.config}`;
      return done(fail(`after RELOAD pgbouncer does not route as written: ${mismatches.join('; ')} (${hint}? see pgbouncer's log); not resumed`));
    }

    const outcomes = await Promise.all(plan.databases.map((db) => this.settle(proxy, db, before, mode)));
    const databases: Record<string, string> = {};
    const problems: string[] = [];
    plan.databases.forEach((db, index) => {
      const outcome = outcomes[index] ?? { ok: false, text: 'no outcome' };
      databases[db.alias] = outcome.text;
      if (!outcome.ok) problems.push(`${db.alias}: ${outcome.text}`);
    });
    const routing = plan.databases.map((db) => `${db.alias} -> ${db.target.server}`).join(', ');
    if (problems.length > 0) return done(fail(`repointed (${routing}) but: ${problems.join('; ')}`), databases);
    return done(success(`routes ${routing}`), databases);
  }

  /**
   * After a confirmed RELOAD: drops the connections of an alias whose target
   * changed and resumes it (failover: every alias is resumed).
   */
  private async settle(proxy: string, db: RoutedDatabase, before: Map<string, LiveDatabase> | undefined, mode: RepointMode): Promise<Outcome> {
    const where = `${db.target.server} ${db.target.host}:${db.target.port}/${db.dbname}`;
    const previous = before?.get(db.alias);
    const changed = !routesTo(previous, db.target, db.dbname);
    // A new alias has no connections to drop; an unknown previous state counts as a change.
    if (!changed || (before !== undefined && previous === undefined)) {
      const label = `${where}${changed ? ' (new)' : ' (unchanged)'}`;
      if (mode === 'init') return { ok: true, text: label };
      const resumed = await this.resumeOne(proxy, db.alias);
      return { ok: !resumed.startsWith('FAIL'), text: `${label}, ${resumed}` };
    }
    const was = `${where} (was ${describeLive(previous)})`;
    if (this.context.config.failover_disconnect === 'kill') {
      const cut = await this.cutOver(proxy, db.alias);
      return { ok: cut.ok, text: `${was}, ${cut.text}` };
    }
    try {
      await this.admin(proxy, `RECONNECT ${db.alias}`);
    } catch (err) {
      return { ok: false, text: `${was}, RECONNECT failed: ${this.error(err)}` };
    }
    if (mode === 'init') return { ok: true, text: `${was}, RECONNECT sent` };
    const resumed = await this.resumeOne(proxy, db.alias);
    return { ok: !resumed.startsWith('FAIL'), text: `${was}, RECONNECT sent, ${resumed}` };
  }

  /**
   * DISABLE, KILL, RESUME, ENABLE. KILL drops every client and server
   * connection of the alias and forgets its pool, including the pool's
   * "last connect failed" mark: without that, after a failed connect to the
   * dead master (or the login connection pgbouncer opens and drops while
   * paused), new server connections wait out server_login_retry (15 s by
   * default). KILL also pauses the alias, and a client logging in before
   * RESUME would set that mark again; DISABLE turns such clients away
   * (they retry) until the pool is resumed.
   */
  private async cutOver(proxy: string, alias: string): Promise<Outcome> {
    try {
      await this.admin(proxy, `DISABLE ${alias}`);
    } catch (err) {
      return { ok: false, text: `DISABLE failed: ${this.error(err)}; connections to the old target not dropped, not resumed` };
    }
    let outcome: Outcome;
    try {
      await this.admin(proxy, `KILL ${alias}`);
      const resumed = await this.resumeOne(proxy, alias);
      outcome = { ok: !resumed.startsWith('FAIL'), text: `connections killed, ${resumed}` };
    } catch (err) {
      const resumed = await this.resumeOne(proxy, alias);
      outcome = { ok: false, text: `KILL failed: ${this.error(err)}; ${resumed}` };
    }
    try {
      await this.admin(proxy, `ENABLE ${alias}`);
    } catch (err) {
      return { ok: false, text: `${outcome.text}; ENABLE failed, new clients are still refused: ${this.error(err)}` };
    }
    return outcome;
  }

  /**
   * PAUSEs every read-write alias, and each read-only alias that currently
   * routes to `master`, all at once, each bounded by pause_timeout_seconds;
   * a PAUSE that does not finish becomes a KILL (or a FAIL).
   */
  async pause(proxy: string, aliases: readonly DatabaseAlias[], master: Endpoint | undefined): Promise<ProxyResult> {
    const started = this.context.clock.now();
    const databases: Record<string, string> = {};
    const done = (rd: ReturnDictionary): ProxyResult => ({ ...rd, databases, duration_ms: this.context.clock.now() - started });
    let live: Map<string, LiveDatabase>;
    try {
      live = liveDatabases(await this.admin(proxy, 'SHOW DATABASES'));
    } catch (err) {
      return done(fail(`admin console does not answer: ${this.error(err)}; nothing paused`));
    }
    const targets: string[] = [];
    for (const alias of aliases) {
      const current = live.get(alias.alias);
      if (current === undefined) databases[alias.alias] = 'absent on this proxy (run init): nothing to pause';
      else if (!alias.readonly || (master !== undefined && current.host === master.host && current.port === String(master.port))) targets.push(alias.alias);
      else databases[alias.alias] = `not paused: routes to ${describeLive(current)}, not the master`;
    }
    const pauseMs = Math.round(this.context.config.pause_timeout_seconds * 1000);
    const outcomes = await Promise.all(targets.map((alias) => this.pauseOne(proxy, alias, pauseMs)));
    const problems: string[] = [];
    outcomes.forEach((outcome, index) => {
      const alias = targets[index] ?? '';
      databases[alias] = outcome.text;
      if (!outcome.ok) problems.push(`${alias}: ${outcome.text}`);
    });
    if (problems.length > 0) return done(fail(`could not pause ${problems.join('; ')}`));
    return done(success(targets.length === 0 ? 'nothing to pause' : `paused ${targets.map((alias) => `${alias} (${databases[alias] ?? ''})`).join(', ')}`));
  }

  /** RESUMEs every alias; one that is not paused or does not exist is fine. */
  async resume(proxy: string, aliases: readonly DatabaseAlias[]): Promise<ProxyResult> {
    const started = this.context.clock.now();
    const outcomes = await Promise.all(aliases.map((alias) => this.resumeOne(proxy, alias.alias)));
    const databases = Object.fromEntries(aliases.map((alias, index) => [alias.alias, outcomes[index] ?? '']));
    const problems = aliases.filter((_, index) => outcomes[index]?.startsWith('FAIL')).map((alias) => `${alias.alias}: ${databases[alias.alias] ?? ''}`);
    const rd = problems.length > 0 ? fail(`could not resume ${problems.join('; ')}`) : success(`resumed: ${aliases.map((a) => `${a.alias} ${databases[a.alias] ?? ''}`).join(', ')}`);
    return { ...rd, databases, duration_ms: this.context.clock.now() - started };
  }

  /**
   * Reads SHOW DATABASES, then connects through the proxy to every alias
   * that is present and not paused and asks pg_is_in_recovery(): a
   * read-write alias must reach a master.
   */
  async poll(proxy: string, aliases: readonly DatabaseAlias[]): Promise<ProxyResult> {
    const started = this.context.clock.now();
    const databases: Record<string, string> = {};
    const done = (rd: ReturnDictionary): ProxyResult => ({ ...rd, databases, duration_ms: this.context.clock.now() - started });
    let live: Map<string, LiveDatabase>;
    try {
      live = liveDatabases(await this.admin(proxy, 'SHOW DATABASES'));
    } catch (err) {
      return done(fail(`admin console does not answer: ${this.error(err)}`));
    }
    const outcomes = await Promise.all(aliases.map((alias) => this.probeOne(proxy, alias, live.get(alias.alias))));
    const problems: string[] = [];
    aliases.forEach((alias, index) => {
      const outcome = outcomes[index] ?? { ok: false, text: 'no outcome' };
      databases[alias.alias] = outcome.text;
      if (!outcome.ok) problems.push(`${alias.alias}: ${outcome.text}`);
    });
    if (problems.length > 0) return done(fail(problems.join('; ')));
    return done(success(aliases.map((alias) => `${alias.alias} ${databases[alias.alias] ?? ''}`).join(', ')));
  }

  private async checkInclude(proxy: string, files: ProxyFiles): Promise<string | undefined> {
    try {
      const result = await this.context.shell.runScript(proxy, includeCheckScript(files), { timeoutMs: this.commandMs() });
      if (result.exitCode === 0) return undefined;
      if (result.exitCode === INCLUDE_MISSING_EXIT) {
        return `${files.config} lacks the line '${includeLine(files)}' (add it as the last line of pgbouncer.ini)`;
      }
      return `cannot read ${files.config} (exit ${String(result.exitCode)}): ${trimOutput(result.stderr)}`;
    } catch (err) {
      return `cannot check ${files.config}: ${this.error(err)}`;
    }
  }

  private async pauseOne(proxy: string, alias: string, pauseMs: number): Promise<Outcome> {
    try {
      await this.admin(proxy, `PAUSE ${alias}`, pauseMs);
      return { ok: true, text: 'paused' };
    } catch (err) {
      if (!hasErrorCode(err, ErrorCodes.TIMEOUT)) return { ok: false, text: `PAUSE failed: ${this.error(err)}` };
      const waited = `PAUSE waited ${this.context.config.pause_timeout_seconds} s for server connections`;
      if (this.context.config.on_pause_timeout === 'fail') return { ok: false, text: `${waited}; still pausing (on_pause_timeout = fail)` };
      try {
        await this.admin(proxy, `KILL ${alias}`);
        return { ok: true, text: `killed: ${waited}, then KILL dropped its connections` };
      } catch (killErr) {
        return { ok: false, text: `${waited}, then KILL failed: ${this.error(killErr)}` };
      }
    }
  }

  private async resumeOne(proxy: string, alias: string): Promise<string> {
    try {
      await this.admin(proxy, `RESUME ${alias}`);
      return 'resumed';
    } catch (err) {
      const text = this.error(err);
      if (NOT_PAUSED.test(text)) return 'was not paused';
      if (NO_SUCH_DATABASE.test(text)) return 'absent on this proxy';
      return `FAIL: ${text}`;
    }
  }

  private async probeOne(proxy: string, alias: DatabaseAlias, live: LiveDatabase | undefined): Promise<Outcome> {
    if (live === undefined) return { ok: false, text: 'absent on this proxy (run init)' };
    const where = describeLive(live);
    if (live.paused) return { ok: false, text: `paused (routes to ${where})` };
    try {
      const rows = await this.console.probe(proxy, alias.alias, this.adminMs());
      const value = rows[0]?.['in_recovery'];
      const inRecovery = value === true || value === 't';
      if (!alias.readonly && inRecovery) return { ok: false, text: `reaches ${where}, which is in recovery (not a master)` };
      return { ok: true, text: `ok: ${where} (${inRecovery ? 'replica' : 'master'})` };
    } catch (err) {
      return { ok: false, text: `cannot query through the proxy: ${this.error(err)}` };
    }
  }

  private admin(proxy: string, command: string, timeoutMs = this.adminMs()): Promise<readonly Record<string, unknown>[]> {
    return this.console.admin(proxy, command, timeoutMs);
  }

  private adminMs(): number {
    return Math.round(this.context.config.admin_timeout_seconds * 1000);
  }

  private commandMs(): number {
    return Math.round(this.context.config.command_timeout_seconds * 1000);
  }

  private error(err: unknown): string {
    return describeError(err, this.context.secrets, [this.context.config.admin_password_key]);
  }
}
