import 'reflect-metadata';
import { ErrorCodes, errorMessage, fail, hasErrorCode, parseLsn, success } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ReturnDictionary, ServerDefinition, SqlClient, SqlTarget } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { AlertService } from '../alerts/alert-service.js';
import { SERVER_NAME_PATTERN } from '../config/core-schema.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import type { StateStore } from '../state/state-store.js';
import { alterSystemStatement } from './primary-conninfo.js';
import { ASYNC, asSyncSet, parseStandbyNames, planTransition, sameSet, standbyNames, targetSyncSet } from './sync-rules.js';
import type { SyncCandidate, SyncSet, SynchronousMode } from './sync-rules.js';

/** Where the recorded synchronous set lives in the saved state's `extra`. */
export const SYNC_KEY = 'synchronous_standbys';

/** How long a new setting may take to show after a reload, and the remaining members to catch up. */
const SETTLE_MS = 3000;
const APPLICATION_NAME = new RegExp(SERVER_NAME_PATTERN);

/** What the master says about its standbys. */
interface MasterFacts {
  applied: SyncSet | undefined;
  /** application_name → flush LSN of each streaming standby. */
  flushed: Map<string, bigint>;
}

/**
 * Keeps `synchronous_standby_names = 'ANY k (S)'` on the master (issue 13)
 * and the recorded (S, k) in the saved state, changing them only in the
 * order sync-rules.ts proves safe: widen the record, apply and confirm,
 * wait for the remaining members to catch up when the guarantee narrows,
 * then record the target.
 */
@injectable()
export class SyncStandbys {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(Tokens.stateStore) private readonly stateStore: StateStore,
    @inject(AlertService) private readonly alerts: AlertService,
  ) {}

  /** `[failover] synchronous_mode`. */
  mode(): SynchronousMode {
    return this.loaded.config.failover.synchronous_mode;
  }

  /** The recorded set (asynchronous when none is recorded). */
  recorded(): SyncSet {
    return asSyncSet(this.registry.getExtra(SYNC_KEY)) ?? ASYNC;
  }

  /** The application_name a replica streams under (`replication_application_name`, else its name). */
  applicationName(server: ServerDefinition): string {
    const configured = server['replication_application_name'];
    return typeof configured === 'string' && configured !== '' ? configured : server.name;
  }

  /** A quick SQL target for the synchronous-set statements: connect_timeout, at least 2 s per statement. */
  target(server: string): SqlTarget {
    const ms = this.loaded.config.handyrep.connect_timeout * 1000;
    return { server, connectTimeoutMs: ms, statementTimeoutMs: Math.max(ms, 2000) };
  }

  /** Saves the recorded set; throws when it did not reach the disk (nothing may be applied then). */
  async record(set: SyncSet): Promise<void> {
    this.registry.setExtra(SYNC_KEY, { members: [...set.members], k: set.k });
    await this.stateStore.saveOrThrow();
  }

  /**
   * One maintenance pass on the master: brings (S, k) to what the healthy
   * replicas allow. Only a change runs inside `locked` (the action lock), so
   * a pass with nothing to do never holds up an operator's action. Never throws.
   */
  async maintain(locked: <T>(work: () => Promise<T>) => Promise<T> = (work) => work()): Promise<ReturnDictionary<{ sync?: SyncSet }>> {
    const mode = this.mode();
    const master = this.registry.master();
    const recorded = this.recorded();
    // Turned off after HandyRep managed it: hand the master back asynchronous once, then leave it alone.
    if (!master || (mode === 'off' && recorded.k === 0 && recorded.members.length === 0)) return success('synchronous replication is not managed');
    try {
      const facts = await this.readMaster(master.name);
      const target = targetSyncSet(mode, this.loaded.config.failover.synchronous_count, this.candidates(facts), recorded);
      const plan = planTransition(recorded, facts.applied, target);
      if (!plan) return success(`synchronous standbys unchanged: ${describe(target)}`, { sync: target });
      return await locked(async () => {
        // The plan was made from the recorded set: refuse to carry it out if another process changed it meanwhile.
        if (!sameSet(this.recorded(), recorded)) throw new Error('the recorded synchronous set changed meanwhile; next check');
        if (plan.widen) await this.record(plan.widen);
        await this.apply(master.name, plan.apply);
        if (plan.narrows && plan.apply.k > 0) await this.waitCaughtUp(master.name, plan.apply);
        await this.record(plan.record);
        await this.announce(recorded, plan.record, master.name);
        return success(`synchronous standbys now ${describe(plan.record)}`, { sync: plan.record });
      });
    } catch (err) {
      if (hasErrorCode(err, ErrorCodes.ACTION_IN_PROGRESS)) return success(`synchronous standbys: change deferred, ${errorMessage(err)}`);
      this.logger.warn(`could not maintain the synchronous standbys on ${master.name}: ${errorMessage(err)}`, { component: 'sync' });
      return fail(`synchronous standbys not changed: ${errorMessage(err)}`);
    }
  }

  private candidates(facts: MasterFacts): SyncCandidate[] {
    return this.registry.byRole('replica').map((server) => {
      const applicationName = this.applicationName(server);
      return {
        name: server.name,
        applicationName,
        eligible: server.enabled && server.status === 'healthy' && server['nofailover'] !== true && APPLICATION_NAME.test(applicationName),
        streaming: facts.flushed.has(applicationName),
      };
    });
  }

  private async readMaster(master: string): Promise<MasterFacts> {
    return this.sql.withSession(this.target(master), async (session) => {
      const shown = await session.query<{ value: string }>('SELECT current_setting($1) AS value', ['synchronous_standby_names']);
      const rows = await session.query<{ name: string; lsn: string | null }>(
        "SELECT application_name AS name, flush_lsn::text AS lsn FROM pg_stat_replication WHERE state = 'streaming'",
      );
      const flushed = new Map<string, bigint>();
      for (const row of rows) flushed.set(row.name, parseLsn(row.lsn) ?? 0n);
      return { applied: parseStandbyNames(shown[0]?.value ?? ''), flushed };
    });
  }

  /** ALTER SYSTEM + reload on `server`, confirmed by a fresh session's SHOW within a few seconds. */
  async apply(server: string, set: SyncSet): Promise<void> {
    const value = standbyNames(set);
    await this.sql.query(this.target(server), alterSystemStatement('synchronous_standby_names', value));
    await this.sql.query(this.target(server), 'SELECT pg_reload_conf()');
    const deadline = this.clock.now() + SETTLE_MS;
    for (;;) {
      const rows = await this.sql.query<{ value: string }>(this.target(server), 'SELECT current_setting($1) AS value', ['synchronous_standby_names']);
      const shown = parseStandbyNames(rows[0]?.value ?? '');
      if (shown && sameSet(shown, set)) return;
      if (this.clock.now() > deadline) throw new Error(`${server} still shows synchronous_standby_names = '${rows[0]?.value ?? ''}' after setting '${value}'`);
      await this.clock.sleep(100);
    }
  }

  /** Waits until k members of the new set have flushed everything written before it applied. */
  private async waitCaughtUp(master: string, set: SyncSet): Promise<void> {
    const rows = await this.sql.query<{ lsn: string }>(this.target(master), 'SELECT pg_current_wal_lsn()::text AS lsn');
    const goal = parseLsn(rows[0]?.lsn) ?? 0n;
    const deadline = this.clock.now() + SETTLE_MS;
    for (;;) {
      const facts = await this.readMaster(master);
      const caughtUp = set.members.filter((member) => (facts.flushed.get(member) ?? -1n) >= goal);
      if (caughtUp.length >= set.k) return;
      if (this.clock.now() > deadline) throw new Error(`only ${caughtUp.length} of ${set.k} remaining members caught up with ${rows[0]?.lsn ?? ''}; the recorded set stays wider`);
      await this.clock.sleep(100);
    }
  }

  /**
   * Right after a promotion: `quorum` records the set as asynchronous until
   * the remastered replicas stream again (maintain() then adds them, record
   * first); `quorum_strict` keeps the other members and applies them on the
   * new master, so its writes wait for them.
   */
  async afterFailover(newMaster: string): Promise<string> {
    const mode = this.mode();
    if (mode === 'off') return 'synchronous replication is not managed';
    const newName = this.applicationName(this.registry.get(newMaster));
    const rest = this.recorded().members.filter((member) => member !== newName);
    if (mode === 'quorum' || rest.length === 0) {
      await this.record(ASYNC);
      return 'synchronous set recorded as asynchronous until the remastered replicas stream';
    }
    const set: SyncSet = { members: rest, k: Math.min(this.loaded.config.failover.synchronous_count, rest.length) };
    await this.record(set);
    await this.apply(newMaster, set);
    return `synchronous standbys on ${newMaster}: ${describe(set)} (quorum_strict: writes wait for them)`;
  }

  /** Clears a promotion candidate's own synchronous_standby_names, so its first commits as master do not wait for standbys that are not there yet. */
  async prepareCandidate(candidate: string): Promise<void> {
    if (this.mode() === 'off') return;
    await this.apply(candidate, ASYNC);
  }

  private async announce(before: SyncSet, after: SyncSet, master: string): Promise<void> {
    const message = `synchronous standbys on ${master}: ${describe(before)} → ${describe(after)}`;
    this.logger.info(message, { component: 'sync' });
    if (after.k < before.k) {
      const what = after.k === 0 ? 'commits are now asynchronous: a failover may lose acknowledged commits' : `commits now wait for ${after.k} standby(s) instead of ${before.k}`;
      await this.alerts.send('status_warning', 'warning', `${message}; ${what}`, master);
    }
  }
}

/** A set in words. */
export function describe(set: SyncSet): string {
  return set.k === 0 ? 'asynchronous' : `ANY ${set.k} (${set.members.join(', ')})`;
}
