import { BadArgumentError, fail, success } from '@handyrep/plugin-sdk';
import type { CommandResult, ControlPlugin, ControlResult, PluginContext } from '@handyrep/plugin-sdk';
import type { RestartSystemdConfig } from './config.js';
import { commandFields, exitText, failFromError, lastLine } from './control-result.js';
import { actionArgv, immediateStopArgv, isActiveArgv, loadStateArgv } from './systemctl-command.js';
import type { SystemctlAction, SystemctlOptions } from './systemctl-command.js';
import { unitState } from './unit-state.js';
import type { UnitState } from './unit-state.js';

/** Pause between two is-active checks while waiting for an immediate stop to finish. */
const FASTSTOP_POLL_MS = 250;

/** Every result of this plugin carries how long the operation took. */
type Timed<R> = R & { duration_ms: number };

/** A control result with `running`, as `status` returns it. */
type StatusResult = ControlResult & { running: boolean };

/** What a probe of the unit found. */
interface Probe {
  /** The unit's state, or undefined when the unit does not exist. */
  state: UnitState | undefined;
  /** The last command run. */
  result: CommandResult;
}

/**
 * The restart_systemd control plugin: every operation first asks
 * `systemctl is-active`, so that stopping a stopped unit or starting a
 * running one is an idempotent SUCCESS and a unit that does not exist is a
 * clean FAIL.
 */
export class SystemdControl implements ControlPlugin {
  private readonly systemctl: SystemctlOptions;

  constructor(private readonly context: PluginContext<RestartSystemdConfig>) {
    this.systemctl = { systemctl: context.config.systemctl_path, useSudo: context.config.use_sudo };
  }

  /** `systemctl start` unless the unit is already active. */
  start(server: string): Promise<Timed<ControlResult>> {
    return this.act('start', server, async (unit) => {
      const probe = await this.probe(server, unit);
      if (probe.state === undefined) return this.notFound('start', server, unit, probe);
      if (probe.state.active) return success(`${unit} on ${server} is already active; nothing done`, commandFields(probe.result));
      return this.change(server, unit, 'start');
    });
  }

  /** `systemctl stop` (the unit's own stop: fast shutdown in Debian's and PostgreSQL's units) unless it is already down. */
  stop(server: string): Promise<Timed<ControlResult>> {
    return this.act('stop', server, async (unit) => {
      const probe = await this.probe(server, unit);
      if (probe.state === undefined) return this.notFound('stop', server, unit, probe);
      if (!probe.state.running) return success(`${unit} on ${server} is already stopped (${probe.state.word}); nothing done`, commandFields(probe.result));
      return this.change(server, unit, 'stop');
    });
  }

  /** SIGQUIT to the unit's main process (the postmaster: immediate shutdown), then waits until the unit is down. */
  faststop(server: string): Promise<Timed<ControlResult>> {
    return this.act('faststop', server, async (unit) => {
      const probe = await this.probe(server, unit);
      if (probe.state === undefined) return this.notFound('faststop', server, unit, probe);
      if (!probe.state.running) return success(`${unit} on ${server} is already stopped (${probe.state.word}); nothing done`, commandFields(probe.result));
      const started = this.context.clock.now();
      const kill = await this.context.shell.run(server, immediateStopArgv(this.systemctl, unit), { timeoutMs: this.quickMs() });
      if (kill.exitCode !== 0) {
        return fail(`systemctl kill --signal=SIGQUIT ${unit} on ${server} failed (${exitText(kill)}): ${lastLine(kill.stderr)}`, commandFields(kill));
      }
      const deadline = started + this.context.config.wait_seconds * 1000;
      for (;;) {
        const now = await this.probe(server, unit);
        if (now.state !== undefined && !now.state.running) {
          const took = this.context.clock.now() - started;
          this.context.logger.info(`stopped ${unit} on ${server} (immediate)`, { server, unit, durationMs: took });
          return success(`${unit} on ${server} stopped (SIGQUIT, immediate shutdown) in ${took} ms; unit ${now.state.word}`, commandFields(kill));
        }
        if (this.context.clock.now() >= deadline) {
          return fail(
            `${unit} on ${server} is still ${now.state?.word ?? 'unknown'} ${this.context.config.wait_seconds} s after SIGQUIT`,
            commandFields(now.result),
          );
        }
        await this.context.clock.sleep(FASTSTOP_POLL_MS);
      }
    });
  }

  /** `systemctl restart` (starts the unit when it is not running). */
  restart(server: string): Promise<Timed<ControlResult>> {
    return this.act('restart', server, async (unit) => {
      const probe = await this.probe(server, unit);
      if (probe.state === undefined) return this.notFound('restart', server, unit, probe);
      const result = await this.change(server, unit, 'restart');
      return probe.state.running ? result : { ...result, details: `${unit} on ${server} was ${probe.state.word}; ${result.details}` };
    });
  }

  /** `systemctl reload`; FAIL when the unit is not active. */
  reload(server: string): Promise<Timed<ControlResult>> {
    return this.act('reload', server, async (unit) => {
      const probe = await this.probe(server, unit);
      if (probe.state === undefined) return this.notFound('reload', server, unit, probe);
      if (!probe.state.active) return fail(`${unit} on ${server} is ${probe.state.word}, not active; nothing to reload`, commandFields(probe.result));
      return this.change(server, unit, 'reload');
    });
  }

  /** `systemctl is-active`: SUCCESS with `running`; FAIL when the unit does not exist or SSH fails. */
  async status(server: string): Promise<Timed<StatusResult>> {
    const started = this.context.clock.now();
    try {
      const unit = this.unitOf(server);
      const probe = await this.probe(server, unit);
      const duration_ms = this.context.clock.now() - started;
      if (probe.state === undefined) return { ...this.notFound('status', server, unit, probe), running: false, duration_ms };
      return success(`${unit} on ${server} is ${probe.state.word}`, {
        ...commandFields(probe.result),
        running: probe.state.running,
        unit_state: probe.state.word,
        duration_ms,
      });
    } catch (err) {
      return { ...failFromError('status', server, err, this.context.clock.now() - started), running: false };
    }
  }

  private async change(server: string, unit: string, action: SystemctlAction): Promise<ControlResult> {
    const started = this.context.clock.now();
    const timeoutMs = action === 'reload' ? this.quickMs() : this.waitingMs();
    const result = await this.context.shell.run(server, actionArgv(this.systemctl, action, unit), { timeoutMs });
    const took = this.context.clock.now() - started;
    if (result.exitCode === 0) {
      this.context.logger.info(`systemctl ${action} ${unit} on ${server}`, { server, unit, action, durationMs: took });
      return success(`systemctl ${action} ${unit} on ${server} succeeded in ${took} ms`, commandFields(result));
    }
    this.context.logger.warn(`systemctl ${action} ${unit} failed on ${server}`, { server, unit, action, exitCode: result.exitCode });
    return fail(`systemctl ${action} ${unit} on ${server} failed (${exitText(result)}): ${lastLine(result.stderr) || lastLine(result.stdout)}`, commandFields(result));
  }

  /** is-active; when the unit is not running, also LoadState, because is-active calls a missing unit merely "inactive". */
  private async probe(server: string, unit: string): Promise<Probe> {
    const result = await this.context.shell.run(server, isActiveArgv(this.systemctl, unit), { timeoutMs: this.quickMs() });
    const state = unitState(result);
    if (state.running) return { state, result };
    const load = await this.context.shell.run(server, loadStateArgv(this.systemctl, unit), { timeoutMs: this.quickMs() });
    const loadState = load.stdout.trim();
    if (load.exitCode === 0 && loadState === 'not-found') return { state: undefined, result: load };
    return { state, result };
  }

  private notFound(action: string, server: string, unit: string, probe: Probe): ControlResult {
    return fail(`${action} on ${server}: systemd unit ${unit} does not exist (LoadState not-found); nothing done`, commandFields(probe.result));
  }

  private unitOf(server: string): string {
    const unit = this.context.servers.get(server)['systemd_unit'];
    if (typeof unit !== 'string' || unit === '') {
      throw new BadArgumentError(`server ${server}: 'systemd_unit' must name a systemd unit, got ${JSON.stringify(unit)}`);
    }
    return unit;
  }

  private async act(action: string, server: string, work: (unit: string) => Promise<ControlResult>): Promise<Timed<ControlResult>> {
    const started = this.context.clock.now();
    try {
      const result = await work(this.unitOf(server));
      return { ...result, duration_ms: this.context.clock.now() - started };
    } catch (err) {
      const failed = failFromError(action, server, err, this.context.clock.now() - started);
      this.context.logger.warn(failed.details, { server, action, errorCode: failed.error_code });
      return failed;
    }
  }

  private quickMs(): number {
    return this.context.config.command_timeout_seconds * 1000;
  }

  private waitingMs(): number {
    return (this.context.config.wait_seconds + this.context.config.command_timeout_seconds) * 1000;
  }
}
