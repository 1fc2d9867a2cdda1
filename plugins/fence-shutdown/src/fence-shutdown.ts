import { errorMessage, fail, success } from '@handyrep/plugin-sdk';
import type { ControlPlugin, FenceResult, FencingPlugin, PluginContext } from '@handyrep/plugin-sdk';
import type { FenceShutdownConfig } from './config.js';
import { checkControlStatus } from './control-check.js';
import { immediateStop } from './immediate-stop.js';
import type { StopOutcome } from './immediate-stop.js';
import { postmasterProcess } from './postmaster-process.js';
import { KILL_WAIT_MS } from './kill-postmaster-script.js';
import { killPostmaster } from './kill-postmaster.js';
import type { KillOutcome } from './kill-postmaster.js';
import { probePort } from './port-probe.js';
import { judge } from './verdict.js';
import type { Observation, Verdict } from './verdict.js';

/** The `fence_shutdown` instance: immediate stop through the control plugin, then proof that the server is down. */
export function createFenceShutdown(context: PluginContext<FenceShutdownConfig>): FencingPlugin {
  const { config, clock, logger } = context;

  const observe = async (control: ControlPlugin | undefined, server: string, pgdata: unknown): Promise<Observation> => {
    const [controlCheck, port] = await Promise.all([
      checkControlStatus(control, server, config.check_timeout_ms),
      probePort(context.sql, server, config.check_timeout_ms),
    ]);
    // A control plugin that tests the PID with kill(pid, 0) (pg_ctl status) sees a killed, unreaped postmaster as running: /proc tells.
    if (controlCheck.state === 'running' && (port.state === 'refused' || port.state === 'error')) {
      const process = await postmasterProcess(context.shell, server, pgdata, config.check_timeout_ms);
      if (process.state === 'dead') return { control: { state: 'stopped', detail: `${process.detail} (the control plugin said: ${controlCheck.detail})` }, port };
    }
    return { control: controlCheck, port };
  };

  return {
    async fence(server: string): Promise<FenceResult> {
      // An unknown name is the caller's mistake, not a fencing outcome: let UnknownServerError through.
      const definition = context.servers.get(server);
      const where = `${definition.hostname}:${definition.port}`;
      const started = clock.now();
      let control: ControlPlugin | undefined;
      let controlProblem = '';
      try {
        control = context.plugins.forServer('control', server);
      } catch (err) {
        controlProblem = `; control plugin unavailable: ${errorMessage(err)}`;
      }
      logger.info(`fencing ${server}: immediate stop through its control plugin`, { server });

      // A stopped (hung) postmaster cannot act on pg_ctl's signal: go straight to the kill instead of waiting out the stop.
      const hung = config.kill_hung_postmaster && (await postmasterProcess(context.shell, server, definition['pgdata'], config.check_timeout_ms)).state === 'stopped';
      const stop: StopOutcome = hung
        ? { ok: false, mayHaveReachedHost: true, detail: 'the postmaster is stopped (hung): immediate stop skipped' }
        : await immediateStop(control, server, config.stop_timeout_ms);
      let kill: KillOutcome | undefined;
      // pg_ctl cannot stop a hung (SIGSTOPped) postmaster: its SIGQUIT waits for a SIGCONT. SIGKILL does not wait.
      if (!stop.ok && stop.mayHaveReachedHost && config.kill_hung_postmaster) {
        logger.warn(`immediate stop of ${server} did not succeed; killing its postmaster over SSH`, { server, stop: stop.detail });
        kill = await killPostmaster(context.shell, server, definition['pgdata'], config.check_timeout_ms + KILL_WAIT_MS);
        logger.info(`kill of ${server}'s postmaster: ${kill.detail}`, { server, killed_pids: kill.killedPids });
      }
      const stopSaid = `${stop.detail}${controlProblem}${kill === undefined ? '' : `; escalation: ${kill.detail}`}`;
      const killed_pids = kill?.killedPids ?? [];
      const deadline = clock.now() + config.confirm_timeout_ms;
      let verdict: Verdict = judge(await observe(control, server, definition['pgdata']), where);
      // Nothing on the host changes after a stop that never got there, so waiting would only delay the core's decision.
      while (!verdict.fenced && (stop.mayHaveReachedHost || kill?.mayHaveActed === true) && clock.now() < deadline) {
        await clock.sleep(config.confirm_interval_ms);
        verdict = judge(await observe(control, server, definition['pgdata']), where);
      }
      const elapsed = clock.now() - started;

      if (verdict.fenced) {
        logger.info(`fenced ${server} in ${elapsed} ms`, { server, duration_ms: elapsed });
        return success(`${server} fenced in ${elapsed} ms: ${verdict.reason}; ${stopSaid}`, { fenced: true, duration_ms: elapsed, killed_pids });
      }
      logger.error(`could not fence ${server}: ${verdict.reason}`, { server, duration_ms: elapsed });
      return fail(`${server} NOT fenced after ${elapsed} ms: ${verdict.reason}; ${stopSaid}`, { fenced: false, duration_ms: elapsed, killed_pids });
    },
  };
}
