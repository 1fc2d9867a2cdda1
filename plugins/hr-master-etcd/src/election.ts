import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, HandyRepError, errorMessage } from '@handyrep/plugin-sdk';
import type { HrMasterDecision, Logger, SharedStateRecord } from '@handyrep/plugin-sdk';
import type { ResolvedSettings } from './config.js';
import type { EtcdStore, KeyInfo, WatchHandle } from './store.js';

/** What the election needs besides its settings. */
export interface ElectionDeps {
  store: EtcdStore;
  logger: Logger;
  /** Monotonic milliseconds (default performance.now): wall-clock jumps must not extend the role. */
  now?: () => number;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Lease-based election of the acting HandyRep instance in etcd.
 *
 * - Every instance holds a lease it renews every `keepaliveIntervalMs`, and
 *   campaigns for `<prefix>/leader` with a create-if-absent transaction whose
 *   key is attached to that lease; a watch on the key wakes the standbys the
 *   moment it is deleted (lease revoked or expired).
 * - `decide()` is local and instant: this instance acts only while it holds
 *   the leader key under its current lease AND the last renewal etcd
 *   confirmed was *sent* less than TTL − margin ago (monotonic clock). A
 *   process that was stopped, or cut off from etcd, therefore stops acting
 *   before its lease can expire, before it hears anything from etcd.
 * - Shared-state writes are guarded in etcd itself: the put happens only in a
 *   transaction that finds the leader key with this instance's name and lease.
 */
export class EtcdElection {
  readonly leaderKey: string;
  readonly stateKey: string;
  readonly instanceKey: string;
  private readonly now: () => number;
  private lease: { id: string; ttlMs: number } | undefined;
  /** Monotonic send time of the newest grant or keepalive that etcd confirmed. */
  private renewedAt: number | undefined;
  /** The leader key as last seen (transaction, watch); undefined when absent or unknown. */
  private holder: KeyInfo | undefined;
  private registered = false;
  private nameTakenReported = false;
  private etcdFailingSince: number | undefined;
  private etcdError: string | undefined;
  private lastActing = false;
  private closed = false;
  private watchHandle: WatchHandle | undefined;
  private loopDone: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private wakeRequested = false;
  /** Fires when the acting window ends, so the log says "stopped acting" at that moment, not at the next question. */
  private roleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: ResolvedSettings,
    private readonly deps: ElectionDeps,
  ) {
    this.now = deps.now ?? (() => performance.now());
    this.leaderKey = `${settings.prefix}/leader`;
    this.stateKey = `${settings.prefix}/state`;
    this.instanceKey = `${settings.prefix}/instances/${settings.instance}`;
  }

  get instance(): string {
    return this.settings.instance;
  }

  private get logger(): Logger {
    return this.deps.logger;
  }

  /** Starts the watch and the renew/campaign loop (the first round runs at once). */
  start(): void {
    if (this.loopDone || this.closed) return;
    this.startWatch();
    this.loopDone = this.loop();
  }

  /** Watches the leader key (start() does this; tests that drive tick() by hand call it alone). */
  startWatch(): void {
    if (this.watchHandle || this.closed) return;
    this.watchHandle = this.deps.store.watch(
      this.leaderKey,
      (event) => {
        if (event.type === 'put') {
          this.holder = event.kv;
        } else {
          this.holder = undefined;
          // The role is free: campaign now rather than at the next renewal.
          this.wake();
        }
        this.observe();
      },
      (err) => this.logger.debug(`watch on ${this.leaderKey}: ${errorMessage(err)} (it reconnects by itself)`),
    );
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      await this.tick();
      if (this.closed) break;
      await this.pause(this.settings.keepaliveIntervalMs);
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.wakeRequested) {
      this.wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wakeLoop = undefined;
        resolve();
      }
      this.wakeLoop = done;
    });
  }

  private wake(): void {
    if (this.wakeLoop) this.wakeLoop();
    else this.wakeRequested = true;
  }

  /** One round: renew (or obtain) the lease, register the name, campaign or learn who holds the role. */
  async tick(): Promise<void> {
    if (this.closed) return;
    try {
      await this.renew();
      if (this.closed || !this.lease) return;
      if (await this.register()) await this.campaign();
      else this.holder = await this.deps.store.get(this.leaderKey, this.settings.requestTimeoutMs);
      this.etcdReachable();
    } catch (err) {
      this.etcdUnreachable(err);
    } finally {
      this.observe();
      this.armRoleTimer();
    }
  }

  private armRoleTimer(): void {
    clearTimeout(this.roleTimer);
    this.roleTimer = undefined;
    if (this.closed || !this.lease || this.renewedAt === undefined || !this.holdsKey()) return;
    const due = this.renewedAt + this.lease.ttlMs - this.settings.marginMs - this.now();
    // A timer can fire a little before the window ends by this clock (Node schedules from its cached loop
    // time): when the decision has not changed yet, arm again for what is left.
    this.roleTimer = setTimeout(() => {
      this.observe();
      if (this.lastActing) this.armRoleTimer();
    }, Math.max(0, due) + 1);
    this.roleTimer.unref();
  }

  private async renew(): Promise<void> {
    const { store } = this.deps;
    const timeout = this.settings.requestTimeoutMs;
    if (this.lease) {
      const sent = this.now();
      const lease = this.lease;
      const remaining = await store.keepAlive(lease.id, timeout);
      if (this.lease !== lease) return;
      if (remaining > 0) {
        this.renewedAt = Math.max(this.renewedAt ?? sent, sent);
        return;
      }
      const held = this.holdsKey();
      this.logger.warn(
        `lease ${lease.id} expired (etcd no longer knows it; last renewed ${this.renewedAt === undefined ? 'never' : `${seconds(sent - this.renewedAt)} ago`})` +
          (held ? `: ${this.instance} no longer holds ${this.leaderKey}` : '') +
          '; taking a new lease',
        { lease: lease.id },
      );
      this.lease = undefined;
      this.renewedAt = undefined;
      this.registered = false;
      if (held) this.holder = undefined;
    }
    const sent = this.now();
    const granted = await store.grantLease(this.settings.ttlSeconds, timeout);
    if (this.closed) {
      await store.revokeLease(granted.id, timeout).catch(() => undefined);
      return;
    }
    // etcd may grant more than asked (its minimum TTL), never less; count with the smaller.
    this.lease = { id: granted.id, ttlMs: Math.min(granted.ttlSeconds, this.settings.ttlSeconds) * 1000 };
    this.renewedAt = sent;
    this.registered = false;
    this.logger.debug(`lease ${granted.id} granted (TTL ${granted.ttlSeconds} s)`, { lease: granted.id });
  }

  /** Claims `<prefix>/instances/<name>` under the lease; false while another live instance has the name. */
  private async register(): Promise<boolean> {
    if (this.registered) return true;
    const lease = this.lease;
    if (!lease) return false;
    const about = JSON.stringify({ instance: this.instance, host: hostname(), pid: process.pid });
    const outcome = await this.deps.store.createIfAbsent(this.instanceKey, about, lease.id, this.settings.requestTimeoutMs);
    if (outcome.created || outcome.current?.lease === lease.id) {
      this.registered = true;
      this.nameTakenReported = false;
      return true;
    }
    if (!this.nameTakenReported) {
      this.nameTakenReported = true;
      this.logger.error(
        `instance name '${this.instance}' is held by another live HandyRep instance (${outcome.current?.value ?? 'unknown'}); ` +
          'this instance does not campaign until that lease ends. Give every instance its own [plugins.hr_master_etcd] instance_name.',
      );
    }
    return false;
  }

  private async campaign(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    const outcome = await this.deps.store.createIfAbsent(this.leaderKey, this.instance, lease.id, this.settings.requestTimeoutMs);
    if (this.lease !== lease) return;
    if (outcome.created) {
      this.holder = { value: this.instance, lease: lease.id, modRevision: '' };
      this.logger.info(`elected: ${this.instance} holds ${this.leaderKey} (lease ${lease.id}, TTL ${seconds(lease.ttlMs)})`, { lease: lease.id });
    } else {
      this.holder = outcome.current;
    }
  }

  private etcdReachable(): void {
    if (this.etcdFailingSince !== undefined) {
      this.logger.info(`etcd answers again after ${seconds(this.now() - this.etcdFailingSince)}`);
    }
    this.etcdFailingSince = undefined;
    this.etcdError = undefined;
  }

  private etcdUnreachable(err: unknown): void {
    this.etcdError = errorMessage(err);
    if (this.etcdFailingSince === undefined) {
      this.etcdFailingSince = this.now();
      this.logger.warn(
        `etcd does not answer: ${this.etcdError}. ` +
          (this.holdsKey() ? 'This instance stops acting once its lease could be near expiry; nothing else changes.' : 'Nothing changes; retrying.'),
      );
    }
  }

  private holdsKey(): boolean {
    return this.lease !== undefined && this.holder?.value === this.instance && this.holder.lease === this.lease.id;
  }

  /** This instance's answer now: local, without I/O. */
  decide(): HrMasterDecision {
    const name = this.instance;
    if (this.closed) return { acting: false, acting_instance: null, details: `hr_master_etcd: ${name} is closed` };
    const now = this.now();
    const lease = this.lease;
    const etcd = this.etcdError !== undefined ? `; etcd: ${this.etcdError}` : '';
    if (lease && this.holdsKey()) {
      const age = now - (this.renewedAt ?? Number.NEGATIVE_INFINITY);
      const window = lease.ttlMs - this.settings.marginMs;
      if (age < window) {
        return {
          acting: true,
          acting_instance: name,
          details: `hr_master_etcd: ${name} holds ${this.leaderKey} (lease ${lease.id}, renewed ${seconds(age)} ago; acts at most ${seconds(window - age)} more without renewal)`,
        };
      }
      return {
        acting: false,
        acting_instance: null,
        details: `hr_master_etcd: ${name} held ${this.leaderKey}, but its lease was last renewed ${seconds(age)} ago (safe window ${seconds(window)}): not acting until etcd confirms the lease${etcd}`,
      };
    }
    // Whoever we saw may be gone once a whole TTL passed without an answer from etcd.
    const stale = this.etcdFailingSince !== undefined && now - this.etcdFailingSince > this.settings.ttlSeconds * 1000;
    const holder = this.holder && !stale ? this.holder.value : null;
    if (holder !== null) {
      return {
        acting: false,
        acting_instance: holder,
        details: `hr_master_etcd: ${holder} acts (holds ${this.leaderKey}); ${name} stands by${etcd}`,
      };
    }
    return {
      acting: false,
      acting_instance: null,
      details: `hr_master_etcd: ${stale ? 'acting instance unknown (etcd unreachable)' : `no instance holds ${this.leaderKey}`}; ${name} campaigns${etcd}`,
    };
  }

  /** decide(), logging every change of role. */
  check(): HrMasterDecision {
    const decision = this.decide();
    this.noteRole(decision);
    return decision;
  }

  private observe(): void {
    this.noteRole(this.decide());
  }

  private noteRole(decision: HrMasterDecision): void {
    if (decision.acting === this.lastActing) return;
    this.lastActing = decision.acting;
    if (decision.acting) this.logger.info(`${this.instance} now acts: ${decision.details}`, { acting: true });
    else this.logger.warn(`${this.instance} stopped acting: ${decision.details}`, { acting: false });
  }

  /** The shared state record, or undefined when none was written yet. */
  async read(): Promise<SharedStateRecord | undefined> {
    const kv = await this.deps.store.get(this.stateKey, this.settings.requestTimeoutMs);
    if (!kv) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(kv.value);
    } catch (err) {
      throw new HandyRepError(ErrorCodes.STATE_FILE, `${this.stateKey} in etcd is not JSON: ${errorMessage(err)}`);
    }
    const record = parsed as Partial<SharedStateRecord> | null;
    if (!record || typeof record !== 'object' || !Number.isInteger(record.generation) || (record.generation as number) < 0 || !('state' in record)) {
      throw new HandyRepError(ErrorCodes.STATE_FILE, `${this.stateKey} in etcd is not a {generation, state} record`);
    }
    return { generation: record.generation as number, state: record.state };
  }

  /** Writes the record only while this instance acts (locally) and holds the leader key under its lease (in etcd). */
  async write(record: SharedStateRecord): Promise<boolean> {
    const decision = this.check();
    const lease = this.lease;
    if (!decision.acting || !lease) return false;
    const written = await this.deps.store.putIfHeld(
      { key: this.leaderKey, value: this.instance, lease: lease.id },
      this.stateKey,
      JSON.stringify({ generation: record.generation, state: record.state }),
      this.settings.requestTimeoutMs,
    );
    if (!written) {
      this.logger.warn(`shared state generation ${record.generation} not written: ${this.leaderKey} is no longer held by ${this.instance} under lease ${lease.id}`);
      if (this.lease === lease && this.holdsKey()) this.holder = undefined;
      this.wake();
      this.observe();
    }
    return written;
  }

  /** Resigns (revokes the lease, so another instance takes over at once) and stops everything. */
  async close(): Promise<void> {
    if (this.closed) return;
    const held = this.holdsKey();
    this.closed = true;
    clearTimeout(this.roleTimer);
    this.wake();
    await this.watchHandle?.close().catch(() => undefined);
    await this.loopDone;
    const lease = this.lease;
    this.lease = undefined;
    if (lease) {
      try {
        await this.deps.store.revokeLease(lease.id, this.settings.requestTimeoutMs);
        this.logger.info(`lease ${lease.id} revoked${held ? `: ${this.instance} resigned ${this.leaderKey}` : ''}`);
      } catch (err) {
        this.logger.warn(`lease ${lease.id} could not be revoked (${errorMessage(err)}); it expires within ${seconds(lease.ttlMs)}`);
      }
    }
    this.observe();
    await this.deps.store.close();
  }
}
