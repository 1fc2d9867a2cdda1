import { fail, success } from '@handyrep/plugin-sdk';
import type { CommandResult, ControlPlugin, ControlResult, PluginContext } from '@handyrep/plugin-sdk';
import type { RestartPgCtlConfig } from './config.js';
import { commandFields, failFromError, lastLine } from './control-result.js';
import { LOG_EXCERPT_MARKER, reloadArgv, startScript, statusArgv, stopArgv } from './pg-ctl-command.js';
import type { ShutdownMode } from './pg-ctl-command.js';
import { pgCtlPaths } from './server-paths.js';
import type { PgCtlPaths } from './server-paths.js';

/** What `pg_ctl status` said about a server. */
interface Probe {
  /** `running` (exit 0), `stopped` (exit 3) or `invalid` (anything else, e.g. 4: no data directory). */
  state: 'running' | 'stopped' | 'invalid';
  /** The postmaster's PID when running. */
  pid: number | undefined;
  /** The command's result. */
  result: CommandResult;
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
      return success(`${server} is not running`, { ...fields, running: false });
    } catch (err) {
      return { ...failFromError('status', server, err, this.context.clock.now() - started), running: false };
    }
  }

  private async shutdown(server: string, paths: PgCtlPaths, mode: ShutdownMode, known?: Probe): Promise<ControlResult> {
    const probe = known ?? (await this.probe(server, paths));
    if (probe.state === 'invalid') return this.invalid(mode === 'fast' ? 'stop' : 'faststop', server, probe);
    if (probe.state === 'stopped') return success(`${server} is already stopped; nothing done`, this.fields(probe.result));
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
    if (result.exitCode === 0) {
      this.context.logger.info(`started ${server}`, { server, durationMs: took });
      return success(`${server} started in ${took} ms (log: ${paths.logFile})`, this.fields(result));
    }
    const reason = lastLine(result.stderr.split(LOG_EXCERPT_MARKER)[0] ?? '') || lastLine(result.stdout);
    this.context.logger.warn(`pg_ctl start failed on ${server}`, { server, exitCode: result.exitCode, durationMs: took });
    return fail(`pg_ctl start on ${server} failed (exit ${exitText(result)}): ${reason}; see ${paths.logFile} on the server`, this.fields(result));
  }

  private async probe(server: string, paths: PgCtlPaths): Promise<Probe> {
    const result = await this.context.shell.run(server, statusArgv(paths), { timeoutMs: this.quickMs() });
    if (result.exitCode === 0) {
      const match = /PID:\s*(\d+)/.exec(result.stdout);
      return { state: 'running', pid: match?.[1] === undefined ? undefined : Number(match[1]), result };
    }
    return { state: result.exitCode === 3 ? 'stopped' : 'invalid', pid: undefined, result };
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

function pidText(probe: Probe): string {
  return probe.pid === undefined ? '' : ` (PID ${probe.pid})`;
}
