import 'reflect-metadata';
import { errorMessage, fail, success } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ResultCode, ReturnDictionary } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { booleanArgument } from '../api/arguments.js';
import { AvailabilityService } from '../availability/availability-service.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import { FailoverExecutor } from '../failover/failover-executor.js';
import type { FailoverResult } from '../failover/failover-executor.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { ActionApi } from './action-api.js';
import { ActionLock } from './action-lock.js';
import { RestartFactsReader } from './restart-facts.js';
import { planRollingRestart } from './rolling-restart-plan.js';
import type { MasterPlan, RestartPlan, RestartRequest, SkippedServer } from './rolling-restart-plan.js';

/** One step of a rolling restart, as `restart_cluster` reports it. */
export interface RollingRestartStep {
  server: string;
  /** `check`, `restart`, `catch_up`, `switchover`, `rejoin`. */
  action: string;
  result: ResultCode;
  seconds: number;
  details: string;
}

/** `restart_cluster`'s return dictionary. */
export type RollingRestartResult = ReturnDictionary<{
  steps: RollingRestartStep[];
  /** Servers restarted (or, for a switched-over master, rejoined), in order. */
  restarted: string[];
  /** Servers left alone because they needed nothing (pending_only). */
  skipped: SkippedServer[];
  /** The step that failed, when one did; nothing ran after it. */
  stopped_at: { server: string; action: string } | null;
  /** The master when the rolling restart ended. */
  master: string | null;
  /** The planned switchover's own report (its steps and `writable_after_ms`), when the master phase was one. */
  switchover: FailoverResult | null;
}>;

/** How often a catch-up wait asks the master again. */
const CATCH_UP_POLL_MS = 200;

/** Records each step with its duration; the first FAIL ends the run. */
class StepLog {
  readonly steps: RollingRestartStep[] = [];
  readonly restarted: string[] = [];
  stoppedAt: { server: string; action: string } | null = null;
  switchover: FailoverResult | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Runs one step; an exception is its FAIL. Returns whether it succeeded. */
  async run(server: string, action: string, work: () => Promise<ReturnDictionary>): Promise<boolean> {
    const started = this.clock.now();
    let outcome: ReturnDictionary;
    try {
      outcome = await work();
    } catch (err) {
      outcome = fail(errorMessage(err));
    }
    const step = { server, action, result: outcome.result, seconds: (this.clock.now() - started) / 1000, details: outcome.details };
    this.steps.push(step);
    this.logger.info(`restart_cluster: ${action} ${server}: ${outcome.result} ${outcome.details}`, { component: 'rolling_restart', server, action, seconds: step.seconds });
    // The first failure is where the run stopped; a repair after it does not move that.
    if (outcome.result === 'FAIL') this.stoppedAt ??= { server, action };
    return outcome.result === 'SUCCESS';
  }
}

/**
 * `restart_cluster(pending_only, switchover)`: restarts the replicas one at a
 * time, each streaming and caught up before the next, then switches over to a
 * restarted replica (the old master rejoins as a replica) or restarts the
 * master in place. It holds the action lock throughout, so no other action
 * (nor an automatic failover) runs meanwhile, and stops at the first failure:
 * the master is never touched after a replica failed.
 */
@injectable()
export class RollingRestart {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(ActionLock) private readonly lock: ActionLock,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
    @inject(FailoverExecutor) private readonly executor: FailoverExecutor,
    @inject(ActionApi) private readonly actions: ActionApi,
    @inject(RestartFactsReader) private readonly facts: RestartFactsReader,
  ) {}

  /** Checks the arguments, then runs the rolling restart under the action lock. */
  async restartCluster(pendingOnly: unknown = false, switchover: unknown = false): Promise<RollingRestartResult> {
    const request: RestartRequest = { pendingOnly: booleanArgument('pending_only', pendingOnly, false), switchover: booleanArgument('switchover', switchover, false) };
    return this.lock.run('restart_cluster', () => this.run(request));
  }

  private async run(request: RestartRequest): Promise<RollingRestartResult> {
    const log = new StepLog(this.clock, this.logger);
    const master = this.registry.master();
    if (!master) return this.finish(log, [], 'FAIL', 'no enabled master: nothing was restarted');
    let plan: RestartPlan | undefined;
    await log.run(master.name, 'check', async () => {
      plan = planRollingRestart(await this.facts.observe(master), request);
      return plan.start ? success('the master answers and every enabled replica streams from it') : fail(`refused: ${plan.reason}; nothing was restarted`);
    });
    if (!plan?.start) return this.finish(log, [], 'FAIL', log.steps[log.steps.length - 1]?.details ?? 'refused');
    for (const replica of plan.replicas) {
      const done = (await log.run(replica.server, 'restart', () => this.restartServer(replica.server, replica.reasons))) && (await log.run(replica.server, 'catch_up', () => this.waitCaughtUp(master.name, [replica.server])));
      if (!done) {
        return this.finish(log, plan.skipped, 'FAIL', `stopped at ${replica.server}: ${log.steps[log.steps.length - 1]?.details ?? ''}; the master ${master.name} was not touched`);
      }
      log.restarted.push(replica.server);
    }
    const masterDone = await this.masterPhase(log, plan.master);
    const summary = `${log.restarted.length} server(s) restarted${plan.skipped.length > 0 ? `, ${plan.skipped.length} skipped (nothing pending)` : ''}`;
    if (!masterDone) return this.finish(log, plan.skipped, 'FAIL', `stopped at ${log.stoppedAt?.server ?? ''} (${log.stoppedAt?.action ?? ''}): ${log.steps[log.steps.length - 1]?.details ?? ''}`);
    const masterText = plan.master.action === 'skip' ? `master ${plan.master.server} skipped (${plan.master.reason})` : `master phase: ${plan.master.action}`;
    return this.finish(log, plan.skipped, 'SUCCESS', `rolling restart done: ${summary}; ${masterText}`);
  }

  /** Restarts one server; its step's details say why it was restarted (the settings pending, other binaries). */
  private async restartServer(name: string, reasons: string[]): Promise<ReturnDictionary> {
    const restarted = await this.actions.restartHeld(name);
    return { result: restarted.result, details: `${restarted.details} (${reasons.join('; ')})` };
  }

  /** Restarts the master in place, or switches over and brings the old master back as a replica. */
  private async masterPhase(log: StepLog, plan: MasterPlan): Promise<boolean> {
    if (plan.action === 'skip') return true;
    const master = plan.server;
    if (!(await log.run(master, 'checkpoint', () => this.checkpoint(master)))) return false;
    const replicas = this.registry.byRole('replica').map((replica) => replica.name);
    if (plan.action === 'restart') {
      if (!(await log.run(master, 'restart', () => this.restartServer(master, plan.reasons)))) return false;
      log.restarted.push(master);
      return replicas.length === 0 || log.run(master, 'catch_up', () => this.waitCaughtUp(master, replicas));
    }
    let newMaster: string | null = null;
    const switched = await log.run(master, 'switchover', async () => {
      const { outcome } = await this.availability.pollServer(this.registry.get(master));
      if (outcome !== 'ok') return fail(`${master} does not answer its poll any more; not switching over`);
      const result = await this.lock.expectingDown(master, () =>
        this.executor.failover({
          trigger: 'manual',
          reason: `restart_cluster: planned switchover (${plan.reasons.join('; ')})`,
          remaster: true,
          ignoreLagLimit: false,
          planned: true,
        }),
      );
      newMaster = result.new_master;
      log.switchover = result;
      return { result: result.result, details: `${result.details}${result.writable_after_ms === undefined ? '' : `; writable after ${result.writable_after_ms} ms`}` };
    });
    if (!switched || newMaster === null) return false;
    const upstream: string = newMaster;
    const rejoined = await log.run(master, 'rejoin', () => this.actions.rejoinHeld(this.registry.get(master), this.registry.get(upstream), true));
    if (!rejoined) return false;
    log.restarted.push(master);
    const followers = this.registry.byRole('replica').map((replica) => replica.name);
    return log.run(upstream, 'catch_up', () => this.waitCaughtUp(upstream, followers));
  }

  /**
   * A clean stop ends with a shutdown checkpoint that writes every buffer
   * dirtied since the last one, and writes wait for it (the proxies are
   * paused, or the master is restarting). Checkpointing while the master
   * still takes writes leaves that stop little to write. A master that cannot
   * checkpoint within statement_timeout would hold writes that long: the run
   * stops there instead, the master untouched.
   */
  private async checkpoint(master: string): Promise<ReturnDictionary> {
    const started = this.clock.now();
    try {
      await this.facts.checkpoint(master);
    } catch (err) {
      return fail(`CHECKPOINT on ${master} failed: ${errorMessage(err)}; the master was not touched`);
    }
    return success(`checkpoint on ${master} in ${this.clock.now() - started} ms, so its clean stop has little left to write`);
  }

  /**
   * Waits until every one of `replicas` streams from `master` and has
   * replayed the master's WAL position read at the start of the wait,
   * within `[failover] restart_catchup_timeout`.
   */
  private async waitCaughtUp(master: string, replicas: readonly string[]): Promise<ReturnDictionary> {
    const limitS = this.loaded.config.failover.restart_catchup_timeout;
    const started = this.clock.now();
    const deadline = started + limitS * 1000;
    let target: bigint | undefined;
    let lastProblem = '';
    let behind: string[] = [...replicas];
    for (;;) {
      try {
        target ??= await this.facts.masterPosition(master);
        const rows = await this.facts.standbys(master);
        const reached = target;
        behind = replicas.filter((name) => {
          const row = rows.find((candidate) => candidate.name === this.facts.applicationName(name));
          return !(row?.state === 'streaming' && row.replay !== null && row.replay >= reached);
        });
        if (behind.length === 0) {
          this.availability.refreshCluster();
          return success(`${replicas.join(', ')} stream${replicas.length === 1 ? 's' : ''} from ${master} and replayed its WAL position after the restart in ${this.clock.now() - started} ms`);
        }
        lastProblem = '';
      } catch (err) {
        lastProblem = `; last error: ${errorMessage(err)}`;
      }
      if (this.clock.now() >= deadline) {
        return fail(`${behind.join(', ')} did not stream from ${master} and replay its WAL position within restart_catchup_timeout (${limitS} s)${lastProblem}`);
      }
      await this.clock.sleep(Math.min(CATCH_UP_POLL_MS, Math.max(0, deadline - this.clock.now())));
    }
  }

  private finish(log: StepLog, skipped: SkippedServer[], result: ResultCode, details: string): RollingRestartResult {
    this.availability.refreshCluster();
    return { result, details, steps: log.steps, restarted: log.restarted, skipped, stopped_at: log.stoppedAt, master: this.registry.master()?.name ?? null, switchover: log.switchover };
  }
}
