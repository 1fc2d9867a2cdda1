import { fail, success } from '@handyrep/plugin-sdk';
import type { CommandResult, ControlPlugin, ControlResult, PluginContext } from '@handyrep/plugin-sdk';
import type { RestartPgCtlConfig } from './config.js';
import { commandFields, failFromError, lastLine } from './control-result.js';
import { LOG_EXCERPT_MARKER, POSTMASTER_STATE_MARKER, reloadArgv, startScript, statusScript, stopArgv, ZOMBIE_LOCK_REMOVED_MARKER } from './pg-ctl-command.js';
import type { ShutdownMode } from './pg-ctl-command.js';
import { pgCtlPaths } from './server-paths.js';
import type { PgCtlPaths } from './server-paths.js';

/** What `pg_ctl status` and /proc said about a server. */
interface Probe {
  /** `running` (exit 0), `stopped` (exit 3, or a PID that is a zombie or gone) or `invalid` (anything else, e.g. 4: no data directory). */
  state: 'running' | 'stopped' | 'invalid';
  /** The postmaster's PID when running. */
  pid: number | undefined;
  /** Why pg_ctl's "running" was overruled (a zombie, a process gone), for details. */
  dead: string | undefined;
  /** The command's result. */
  result: CommandResult;
}

/** /proc state letters of a process that is dead whatever kill(pid, 0) says: zombie, dead. */
const DEAD_STATES: ReadonlySet<string> = new Set(['Z', 'X', 'x']);

/** The `<marker> <pid> <state>` line of the status script: whether the PID pg_ctl saw running is really dead. */
function deadPostmaster(stdout: string): string | undefined {
  const line = stdout.split('\n').find((text) => text.startsWith(`${POSTMASTER_STATE_MARKER} `));
  const [, pid, state] = line?.trim().split(/\s+/) ?? [];
  if (pid === undefined || state === undefined) return undefined;
  if (state === 'gone') return `postmaster.pid names PID ${pid}, which no longer exists`;
  if (DEAD_STATES.has(state)) return `postmaster.pid names PID ${pid}, a zombie: dead, not yet reaped by its parent`;
  return undefined;
}

/** pg_ctl's output without the status script's own line. */
function withoutMarker(result: CommandResult): CommandResult {
  return { ...result, stdout: result.stdout.split('\n').filter((line) => !line.startsWith(`${POSTMASTER_STATE_MARKER} `)).join('\n') };
}

/** Every result of this plugin carries how long the operation took. */
type Timed<R> = R & { duration_ms: number };

/** A control result with `running`, as `status` returns it. */
type StatusResult = ControlResult & { running: boolean };

/**
 * The restart_pg_ctl control plugin: every operation first asks `pg_ctl
 * status`, so that stopping a stopped server or starting a running one is an
 * idempotent SUCCESS, and a missing data directory is a clean FAIL before
 * anything else runs.
 */
export class PgCtlControl implements ControlPlugin {
  constructor(private readonly context: PluginContext<RestartPgCtlConfig>) {}

  /** Starts the server (pg_ctl start -w) unless it already runs. */
  start(server: string): Promise<Timed<ControlResult>> {
    return this.act('start', server, async (paths) => {
      const probe = await this.probe(server, paths);
      if (probe.state === 'invalid') return this.invalid('start', server, probe);
      if (probe.state === 'running') return success(`${server} is already running${pidText(probe)}; nothing done`, this.fields(probe.result));
      return this.runStart(server, paths);
    });
  }

  /** Stops the server in fast mode (pg_ctl stop -m fast -w); SUCCESS when it is already stopped. */
  stop(server: string): Promise<Timed<ControlResult>> {
    return this.act('stop', server, (paths) => this.shutdown(server, paths, 'fast'));
  }

  /** Stops the server in immediate mode (pg_ctl stop -m immediate -w); SUCCESS when it is already stopped. */
  faststop(server: string): Promise<Timed<ControlResult>> {
    return this.act('faststop', server, (paths) => this.shutdown(server, paths, 'immediate'));
  }

  /** Stops the server (fast) if it runs, then starts it exactly as `start` does. */
  restart(server: string): Promise<Timed<ControlResult>> {
    return this.act('restart', server, async (paths) => {
      const probe = await this.probe(server, paths);
      if (probe.state === 'invalid') return this.invalid('restart', server, probe);
      let stopped = `${server} was not running`;
      if (probe.state === 'running') {
        const stop = await this.shutdown(server, paths, 'fast', probe);
        if (stop.result !== 'SUCCESS') return { ...stop, details: `restart of ${server} stopped at the stop step: ${stop.details}` };
        stopped = stop.details;
      }
      const start = await this.runStart(server, paths);
      return { ...start, details: `${stopped}; ${start.details}` };
    });
  }

  /** Signals the running server to re-read its configuration (pg_ctl reload); FAIL when it is not running. */
  reload(server: string): Promise<Timed<ControlResult>> {
    return this.act('reload', server, async (paths) => {
      const probe = await this.probe(server, paths);
      if (probe.state === 'invalid') return this.invalid('reload', server, probe);
      if (probe.state === 'stopped') return fail(`${server} is not running; nothing to reload`, this.fields(probe.result));
      const result = await this.context.shell.run(server, reloadArgv(paths), { timeoutMs: this.quickMs() });
      if (result.exitCode !== 0) return fail(`pg_ctl reload on ${server} failed (exit ${exitText(result)}): ${lastLine(result.stderr)}`, this.fields(result));
      return success(`${server} signalled to reload its configuration (SIGHUP)`, this.fields(result));
    });
  }

  /** pg_ctl status: SUCCESS with `running` for exit 0 and 3, FAIL (running false) for anything else. */
  async status(server: string): Promise<Timed<StatusResult>> {
    const started = this.context.clock.now();
    try {
      const paths = pgCtlPaths(this.context.servers.get(server), this.context.config.log_file);
      const probe = await this.probe(server, paths);
      const duration = { duration_ms: this.context.clock.now() - started };
      const fields = { ...this.fields(probe.result), ...duration };
      if (probe.state === 'invalid') return { ...this.invalid('status', server, probe), running: false, ...duration };
      if (probe.state === 'running') return success(`${server} is running${pidText(probe)}`, { ...fields, running: true, pid: probe.pid ?? null });
      return success(`${server} is not running${deadText(probe)}`, { ...fields, running: false });
    } catch (err) {
      return { ...failFromError('status', server, err, this.context.clock.now() - started), running: false };
    }
  }

  private async shutdown(server: string, paths: PgCtlPaths, mode: ShutdownMode, known?: Probe): Promise<ControlResult> {
    const probe = known ?? (await this.probe(server, paths));
    if (probe.state === 'invalid') return this.invalid(mode === 'fast' ? 'stop' : 'faststop', server, probe);
    if (probe.state === 'stopped') return success(`${server} is already stopped${deadText(probe)}; nothing done`, this.fields(probe.result));
    const started = this.context.clock.now();
    const result = await this.context.shell.run(server, stopArgv(paths, mode, this.context.config.wait_seconds), { timeoutMs: this.waitingMs() });
    const took = this.context.clock.now() - started;
    if (result.exitCode === 0) {
      this.context.logger.info(`stopped ${server} (${mode})`, { server, mode, durationMs: took });
      return success(`${server} stopped (${mode} shutdown) in ${took} ms`, this.fields(result));
    }
    // The postmaster may have exited between the status check and the stop: what counts is that it is down now.
    const after = await this.probe(server, paths);
    if (after.state === 'stopped') {
      return success(`${server} is stopped (pg_ctl stop said: ${lastLine(result.stderr) || `exit ${exitText(result)}`})`, this.fields(result));
    }
    this.context.logger.warn(`pg_ctl stop -m ${mode} failed on ${server}`, { server, mode, exitCode: result.exitCode, durationMs: took });
    return fail(
      `pg_ctl stop -m ${mode} on ${server} failed (exit ${exitText(result)}): ${lastLine(result.stderr) || lastLine(result.stdout)}; the server is ${after.state === 'running' ? 'still running' : 'in an unknown state'}`,
      this.fields(result),
    );
  }

  private async runStart(server: string, paths: PgCtlPaths): Promise<ControlResult> {
    const started = this.context.clock.now();
    const result = await this.context.shell.runScript(server, startScript(paths, this.context.config.wait_seconds), { timeoutMs: this.waitingMs() });
    const took = this.context.clock.now() - started;
    const zombieLock = new RegExp(`^${ZOMBIE_LOCK_REMOVED_MARKER} (\\d+)$`, 'm').exec(result.stdout)?.[1];
    const removed = zombieLock === undefined ? '' : ` after removing the lock file of zombie postmaster PID ${zombieLock}`;
    if (result.exitCode === 0) {
      this.context.logger.info(`started ${server}${removed}`, { server, durationMs: took });
      return success(`${server} started in ${took} ms${removed} (log: ${paths.logFile})`, this.fields(result));
    }
    const reason = lastLine(result.stderr.split(LOG_EXCERPT_MARKER)[0] ?? '') || lastLine(result.stdout);
    this.context.logger.warn(`pg_ctl start failed on ${server}`, { server, exitCode: result.exitCode, durationMs: took });
    return fail(`pg_ctl start on ${server} failed (exit ${exitText(result)}): ${reason}; see ${paths.logFile} on the server`, this.fields(result));
  }

  private async probe(server: string, paths: PgCtlPaths): Promise<Probe> {
    const raw = await this.context.shell.runScript(server, statusScript(paths), { timeoutMs: this.quickMs() });
    const result = withoutMarker(raw);
    if (result.exitCode === 0) {
      const dead = deadPostmaster(raw.stdout);
      if (dead !== undefined) return { state: 'stopped', pid: undefined, dead, result };
      const match = /PID:\s*(\d+)/.exec(result.stdout);
      return { state: 'running', pid: match?.[1] === undefined ? undefined : Number(match[1]), dead: undefined, result };
    }
    return { state: result.exitCode === 3 ? 'stopped' : 'invalid', pid: undefined, dead: undefined, result };
  }

  private invalid(action: string, server: string, probe: Probe): ControlResult {
    const said = lastLine(probe.result.stderr) || lastLine(probe.result.stdout) || 'no output';
    const meaning = probe.result.exitCode === 4 ? 'no such data directory, or not a database cluster directory' : 'pg_ctl status failed';
    return fail(`${action} on ${server}: ${meaning} (pg_ctl status exit ${exitText(probe.result)}: ${said}); nothing done`, this.fields(probe.result));
  }

  private async act(action: string, server: string, work: (paths: PgCtlPaths) => Promise<ControlResult>): Promise<Timed<ControlResult>> {
    const started = this.context.clock.now();
    try {
      const paths = pgCtlPaths(this.context.servers.get(server), this.context.config.log_file);
      const result = await work(paths);
      return { ...result, duration_ms: this.context.clock.now() - started };
    } catch (err) {
      const failed = failFromError(action, server, err, this.context.clock.now() - started);
      this.context.logger.warn(failed.details, { server, action, errorCode: failed.error_code });
      return failed;
    }
  }

  private fields(result: CommandResult): { exit_code: number | null; stderr: string } {
    return commandFields(result, this.context.secrets);
  }

  private quickMs(): number {
    return this.context.config.command_timeout_seconds * 1000;
  }

  private waitingMs(): number {
    return (this.context.config.wait_seconds + this.context.config.command_timeout_seconds) * 1000;
  }
}

function exitText(result: CommandResult): string {
  return result.exitCode === null ? 'by signal' : String(result.exitCode);
}

function deadText(probe: Probe): string {
  return probe.dead === undefined ? '' : ` (${probe.dead})`;
}

function pidText(probe: Probe): string {
  return probe.pid === undefined ? '' : ` (PID ${probe.pid})`;
}
