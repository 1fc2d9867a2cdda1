import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { errorMessage, parseLsn } from '@handyrep/plugin-sdk';
import type {
  Clock,
  Logger,
  ReplicaPosition,
  ResultCode,
  ReturnDictionary,
  RemoteShell,
  ServerDefinition,
  SqlClient,
} from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { AlertService } from '../alerts/alert-service.js';
import { AvailabilityService } from '../availability/availability-service.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { RemasterService } from '../replication/remaster-service.js';
import type { StateStore } from '../state/state-store.js';
import { serverStatus } from '../status/server-status.js';
import { formatStatusTimestamp } from '../status/status-time.js';
import { buildCandidates, enforceMostAdvancedFirst } from './candidates.js';
import type { ReplicaFacts } from './candidates.js';
import { ActingGuard } from '../cluster/acting-guard.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import { asJournal, JOURNAL_KEY } from './failover-journal.js';
import type { FailoverJournal } from './failover-journal.js';

/** One step of a failover, as reported in its return dictionary. */
export interface FailoverStep {
  /** What was done. */
  step: string;
  /** How it went. */
  result: ResultCode;
  /** In words. */
  details: string;
  /** How long it took. */
  duration_ms: number;
}

/** A failover's return dictionary. */
export type FailoverResult = ReturnDictionary<{
  old_master: string | null;
  new_master: string | null;
  steps: FailoverStep[];
  duration_ms: number;
  /** Milliseconds from the start until the new master was confirmed writable. */
  writable_after_ms?: number;
}>;

/** What to fail over, and how. */
export interface FailoverRequest {
  /** automatic (from failover_check) or manual (manual_failover). */
  trigger: 'automatic' | 'manual';
  /** Why, for the log and alerts. */
  reason: string;
  /** A replica to promote (manual); the selection otherwise. */
  newmaster?: string;
  /** Point the other replicas at the new master. */
  remaster: boolean;
  /** Ignore the failover lag limit (manual, explicit). */
  ignoreLagLimit: boolean;
  /** The old master still runs and should be stopped cleanly (planned switchover). */
  planned: boolean;
}

const QUICK_SQL_MS = 3000;

/**
 * Executes a failover: choose, fence, promote and confirm, then update the
 * registry, repoint proxies, remaster replicas, run extra commands, alert.
 * Every step is recorded with its outcome and duration.
 */
@injectable()
export class FailoverExecutor {
  private readonly outcomes = { SUCCESS: 0, FAIL: 0 };

  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.shell) private readonly shell: RemoteShell,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(Tokens.stateStore) private readonly stateStore: StateStore,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
    @inject(RemasterService) private readonly remasterService: RemasterService,
    @inject(AlertService) private readonly alerts: AlertService,
    @inject(ClusterIssues) private readonly issues: ClusterIssues,
    @inject(ActingGuard) private readonly guard: ActingGuard,
  ) {}

  private get failoverSettings(): LoadedConfig['config']['failover'] {
    return this.loaded.config.failover;
  }

  /** Runs a failover. The caller holds the action lock. */
  async failover(request: FailoverRequest): Promise<FailoverResult> {
    const started = this.clock.now();
    const steps: FailoverStep[] = [];
    const oldMaster = this.registry.master();
    const record = async <T>(step: string, work: () => Promise<{ result: ResultCode; details: string; value?: T }>): Promise<{ result: ResultCode; details: string; value?: T }> => {
      const at = this.clock.now();
      let outcome: { result: ResultCode; details: string; value?: T };
      try {
        outcome = await work();
      } catch (err) {
        outcome = { result: 'FAIL', details: errorMessage(err) };
      }
      steps.push({ step, result: outcome.result, details: outcome.details, duration_ms: this.clock.now() - at });
      this.logger.info(`failover step ${step}: ${outcome.result} ${outcome.details}`, { component: 'failover', step });
      return outcome;
    };
    const finish = (result: ResultCode, details: string, newMaster: string | null, writableAfter?: number): FailoverResult => {
      this.outcomes[result] += 1;
      return {
      result,
      details,
      old_master: oldMaster?.name ?? null,
      new_master: newMaster,
      steps,
      duration_ms: this.clock.now() - started,
      ...(writableAfter === undefined ? {} : { writable_after_ms: writableAfter }),
      };
    };

    if (!oldMaster) return finish('FAIL', 'no enabled master to fail over from', null);
    const interrupted = asJournal(this.registry.getExtra(JOURNAL_KEY));
    if (interrupted) {
      return finish('FAIL', `an earlier failover from ${interrupted.old_master} (candidate ${interrupted.candidate ?? 'none'}) was interrupted and is unresolved; check which server is the master before failing over again`, null);
    }
    await this.alerts.send('failover_started', 'critical', `failover from ${oldMaster.name} started (${request.trigger}): ${request.reason}`, oldMaster.name);

    const journal: FailoverJournal = {
      id: randomUUID(),
      trigger: request.trigger,
      old_master: oldMaster.name,
      candidate: null,
      stage: 'started',
      started_at: started,
    };
    await this.writeJournal(journal);

    const failWith = async (details: string): Promise<FailoverResult> => {
      await this.clearJournal();
      this.issues.set('failover', `failover failed: ${details}`);
      this.availability.refreshCluster();
      await this.alerts.send('failover_failed', 'critical', `failover from ${oldMaster.name} failed: ${details}`, oldMaster.name);
      return finish('FAIL', details, null);
    };

    const chosen = await record<string[]>('select_candidates', () => this.selectCandidates(oldMaster, request));
    const candidates = chosen.value ?? [];
    if (chosen.result === 'FAIL' || candidates.length === 0) return failWith(chosen.details);

    const proxies = this.plugins.byKey('connection_failover', 'failover', 'connection_failover_method');
    // A planned switchover holds client queries on the proxies so nothing is written to the old master after its last WAL left.
    const paused = request.planned && proxies ? await record('pause_proxies', () => proxies.pause()) : undefined;
    const resumeProxies = async (): Promise<void> => {
      // Resume even after a partial pause: some proxies may be holding clients.
      if (paused && proxies) await record('resume_proxies', () => proxies.resume());
    };

    const stillActing = async (what: string): Promise<string | undefined> => {
      try {
        await this.guard.require(what);
        return undefined;
      } catch (err) {
        return errorMessage(err);
      }
    };
    const deposedBeforeFence = await stillActing('fencing the old master');
    if (deposedBeforeFence) {
      await resumeProxies();
      return failWith(deposedBeforeFence);
    }
    const fenced = await record('fence_old_master', () => this.fence(oldMaster, request));
    if (fenced.result === 'FAIL') {
      await resumeProxies();
      return failWith(fenced.details);
    }

    let newMaster: string | null = null;
    let writableAfter: number | undefined;
    for (const candidate of candidates) {
      const deposed = await stillActing(`promoting ${candidate}`);
      if (deposed) {
        await resumeProxies();
        return failWith(deposed);
      }
      journal.candidate = candidate;
      journal.stage = 'promoting';
      await this.writeJournal(journal);
      const promoted = await record(`promote ${candidate}`, () => this.promoteAndConfirm(candidate));
      if (promoted.result === 'SUCCESS') {
        newMaster = candidate;
        writableAfter = this.clock.now() - started;
        break;
      }
      this.registry.setStatus(candidate, serverStatus('warning', `promotion failed during failover: ${promoted.details}`, this.clock.now()));
    }
    if (!newMaster) {
      await resumeProxies();
      return failWith(`no candidate could be promoted (tried ${candidates.join(', ')})`);
    }
    journal.stage = 'promoted';
    await this.writeJournal(journal);

    await record('update_registry', async () => {
      this.swapMaster(oldMaster.name, newMaster, `failed over to ${newMaster} at ${formatStatusTimestamp(this.clock.now())} UTC (${request.trigger}): ${request.reason}`);
      await this.stateStore.requestSave();
      return { result: 'SUCCESS', details: `${newMaster} is the master; ${oldMaster.name} is disabled` };
    });

    const problems: string[] = [];
    if (proxies) {
      const repointed = await record('repoint_proxies', () => proxies.failover(newMaster));
      if (repointed.result === 'FAIL') problems.push(`proxies: ${repointed.details}`);
    }

    if (request.remaster) {
      const others = this.registry.byRole('replica').filter((replica) => replica.name !== newMaster);
      const results = await Promise.all(
        others.map((replica) => record(`remaster ${replica.name}`, () => this.remasterService.remaster(replica.name, newMaster))),
      );
      results.forEach((result, index) => {
        if (result.result === 'FAIL') problems.push(`remaster ${others[index]?.name ?? ''}: ${result.details}`);
      });
      // The proxies were repointed first (writes matter most); now that the replicas follow the new
      // master, a second pass lets read-only aliases pick a replica that is in the new timeline.
      if (proxies && others.length > 0) {
        const refreshed = await record('refresh_proxies', () => proxies.failover(newMaster));
        if (refreshed.result === 'FAIL') problems.push(`proxies (after remaster): ${refreshed.details}`);
      }
    }

    for (const [name, command] of Object.entries(this.loaded.config.extra_failover_commands)) {
      const ran = await record(`extra_command ${name}`, async () => {
        const host = this.registry.get(newMaster).hostname;
        const result = await this.shell.runLocal([command.command, newMaster, host, oldMaster.name], { timeoutMs: command.timeout * 1000 });
        return result.exitCode === 0
          ? { result: 'SUCCESS', details: `exit 0` }
          : { result: 'FAIL', details: `exit ${String(result.exitCode)}: ${result.stderr.trim().slice(0, 500)}` };
      });
      if (ran.result === 'FAIL') problems.push(`extra command ${name}: ${ran.details}`);
    }

    await this.clearJournal();
    this.issues.clear('failover');
    this.issues.clear('master_unreachable');
    if (problems.length > 0) this.issues.set('post_failover', `failover to ${newMaster} done, but: ${problems.join('; ')}`);
    else this.issues.clear('post_failover');
    this.availability.refreshCluster();
    const details = `failed over from ${oldMaster.name} to ${newMaster}${problems.length > 0 ? `; post-failover problems: ${problems.join('; ')}` : ''}`;
    await this.alerts.send('failover_finished', problems.length > 0 ? 'warning' : 'info', details, newMaster);
    return finish('SUCCESS', details, newMaster, writableAfter);
  }

  /** Failovers run by this instance, by outcome. */
  outcomeCounts(): { SUCCESS: number; FAIL: number } {
    return { ...this.outcomes };
  }

  private async writeJournal(journal: FailoverJournal): Promise<void> {
    this.registry.setExtra(JOURNAL_KEY, { ...journal });
    await this.stateStore.requestSave();
  }

  private async clearJournal(): Promise<void> {
    this.registry.setExtra(JOURNAL_KEY, undefined);
    await this.stateStore.requestSave();
  }

  /** Positions of the replicas, the selection plugin's order, and the core's most-advanced-first rule. */
  private async selectCandidates(
    oldMaster: ServerDefinition,
    request: FailoverRequest,
  ): Promise<{ result: ResultCode; details: string; value?: string[] }> {
    const replicas = this.registry.byRole('replica');
    if (replicas.length === 0) return { result: 'FAIL', details: 'no enabled replica to fail over to' };
    const status = this.plugins.byKey('replication_status', 'failover', 'replication_status_method');
    if (!status) return { result: 'FAIL', details: 'no [failover] replication_status_method is configured: replicas cannot be ranked' };
    const facts: ReplicaFacts[] = await Promise.all(
      replicas.map(async (server): Promise<ReplicaFacts> => {
        try {
          const position: ReplicaPosition = await status.position(server.name);
          return { server, position };
        } catch (err) {
          this.logger.warn(`cannot read WAL position of ${server.name}: ${errorMessage(err)}`, { server: server.name });
          return { server, position: undefined };
        }
      }),
    );
    const referenceLsn = request.planned ? await this.masterLsn(oldMaster.name) : null;
    const candidates = buildCandidates(facts, referenceLsn, request.planned ? new Map() : this.availability.recentLag());
    if (request.newmaster !== undefined) {
      const named = candidates.find((candidate) => candidate.name === request.newmaster);
      if (!named) return { result: 'FAIL', details: `${request.newmaster} is not an enabled replica` };
      const ahead = candidates.filter(
        (other) => other.name !== named.name && other.reachable && other.received_lsn_bytes !== null && named.received_lsn_bytes !== null && other.received_lsn_bytes > named.received_lsn_bytes,
      );
      if (!named.reachable || !named.in_recovery) return { result: 'FAIL', details: `${named.name} did not answer as a replica in recovery` };
      if (named.nofailover) return { result: 'FAIL', details: `${named.name} is marked nofailover` };
      if (!request.ignoreLagLimit && named.lag_mb !== null && named.lag_mb > named.failover_lag_limit) {
        return { result: 'FAIL', details: `${named.name} is ${named.lag_mb} MB behind, over its failover_lag_limit of ${named.failover_lag_limit} MB (override the lag limit to promote it anyway)` };
      }
      if (ahead.length > 0 && !request.ignoreLagLimit) {
        return { result: 'FAIL', details: `${named.name} has received less WAL than ${ahead.map((a) => a.name).join(', ')}; promoting it would lose commits (override the lag limit to do it anyway)` };
      }
      return { result: 'SUCCESS', details: `${named.name} chosen by the operator`, value: [named.name] };
    }
    const plugin = this.plugins.byKey('replica_selection', 'failover', 'selection_method');
    if (!plugin) return { result: 'FAIL', details: 'no [failover] selection_method is configured' };
    const selection = enforceMostAdvancedFirst(plugin.select(candidates, { ignoreLagLimit: request.ignoreLagLimit }), candidates);
    const excluded = selection.excluded.map((entry) => `${entry.name}: ${entry.reason}`).join('; ');
    if (selection.ordered.length === 0) {
      return { result: 'FAIL', details: `no eligible replica${excluded ? ` (${excluded})` : ''}` };
    }
    return {
      result: 'SUCCESS',
      details: `candidates in order: ${selection.ordered.join(', ')}${excluded ? `; excluded: ${excluded}` : ''}`,
      value: selection.ordered,
    };
  }

  private async masterLsn(master: string): Promise<bigint | null> {
    try {
      const rows = await this.sql.query<{ lsn: string }>({ server: master, connectTimeoutMs: QUICK_SQL_MS, statementTimeoutMs: QUICK_SQL_MS }, 'SELECT pg_current_wal_lsn()::text AS lsn');
      return parseLsn(rows[0]?.lsn);
    } catch {
      return null;
    }
  }

  /**
   * Makes sure the old master cannot accept writes. A planned switchover stops
   * it cleanly (its WAL reaches the replicas first); otherwise the fencing
   * plugin, or the server's control plugin in immediate mode. When that
   * cannot be confirmed, a master whose port refuses connections is known not
   * to accept writes; one that does not answer at all is left to
   * `unreachable_master_policy`; one that still accepts connections stops the failover.
   */
  private async fence(oldMaster: ServerDefinition, request: FailoverRequest): Promise<{ result: ResultCode; details: string }> {
    const name = oldMaster.name;
    let attempt = '';
    try {
      if (request.planned) {
        const stopped = await this.plugins.forServer('control', name).stop(name);
        if (stopped.result === 'SUCCESS') return { result: 'SUCCESS', details: `${name} stopped cleanly` };
        attempt = `clean stop failed: ${stopped.details}`;
      } else {
        const fencing = this.plugins.byKey('fencing', 'failover', 'fencing_method');
        if (fencing) {
          const fenced = await fencing.fence(name);
          if (fenced.fenced) return { result: 'SUCCESS', details: `${name} fenced: ${fenced.details}` };
          attempt = `fencing failed: ${fenced.details}`;
        } else {
          const stopped = await this.plugins.forServer('control', name).faststop(name);
          if (stopped.result === 'SUCCESS') return { result: 'SUCCESS', details: `${name} stopped (immediate)` };
          attempt = `immediate stop failed: ${stopped.details}`;
        }
      }
    } catch (err) {
      attempt = `fencing failed: ${errorMessage(err)}`;
    }
    const server = this.registry.get(name);
    const { outcome } = await this.availability.pollServer(server);
    if (outcome === 'refused') {
      return { result: 'SUCCESS', details: `${attempt}; but ${name} refuses connections, so it cannot accept writes` };
    }
    if (outcome === 'ok' || outcome === 'rejecting') {
      return { result: 'FAIL', details: `${attempt}; ${name} still accepts connections: not promoting a second master` };
    }
    if (this.failoverSettings.unreachable_master_policy === 'failover') {
      return {
        result: 'SUCCESS',
        details: `${attempt}; ${name} does not answer (${outcome}), state unknown: proceeding because unreachable_master_policy = failover`,
      };
    }
    return {
      result: 'FAIL',
      details: `${attempt}; ${name} does not answer (${outcome}), so it may still accept writes: not failing over because unreachable_master_policy = abort`,
    };
  }

  /** Promotes, then confirms: out of recovery and a test write succeeds. */
  async promoteAndConfirm(candidate: string): Promise<{ result: ResultCode; details: string }> {
    const promoted = await this.plugins.forServer('promotion', candidate).promote(candidate);
    if (promoted.result !== 'SUCCESS') return { result: 'FAIL', details: `promotion failed: ${promoted.details}` };
    try {
      await this.sql.withSession({ server: candidate, connectTimeoutMs: QUICK_SQL_MS, statementTimeoutMs: QUICK_SQL_MS }, async (session) => {
        const rows = await session.query<{ in_recovery: boolean }>('SELECT pg_is_in_recovery() AS in_recovery');
        if (rows[0]?.in_recovery !== false) throw new Error('still in recovery after promotion');
        await session.query('CREATE TEMP TABLE handyrep_promotion_check (checked_at timestamptz)');
        await session.query('INSERT INTO handyrep_promotion_check VALUES (now())');
      });
    } catch (err) {
      return { result: 'FAIL', details: `promoted, but the test write failed: ${errorMessage(err)}` };
    }
    return { result: 'SUCCESS', details: `${candidate} promoted and accepts writes` };
  }

  /** The registry after a failover: the new master enabled as master, the old one disabled as a replica to rejoin. */
  swapMaster(oldMaster: string, newMaster: string, message: string): void {
    const now = this.clock.now();
    this.registry.alter(oldMaster, { enabled: false });
    this.registry.alter(oldMaster, { role: 'replica' });
    this.registry.setStatus(oldMaster, serverStatus('down', `former master, disabled: ${message}; rejoin or clone it to bring it back`, now));
    this.registry.alter(newMaster, { enabled: false });
    this.registry.alter(newMaster, { role: 'master' });
    this.registry.alter(newMaster, { enabled: true });
    this.registry.setStatus(newMaster, serverStatus('healthy', `promoted to master: ${message}`, now));
  }
}

