import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { MemoryLogger } from '@handyrep/plugin-sdk/testing';
import { resolveSettings } from './config.js';
import type { HrMasterEtcdConfig } from './config.js';
import { EtcdElection } from './election.js';
import type { CreateOutcome, EtcdStore, KeyInfo, WatchEvent, WatchHandle } from './store.js';

/** One clock for etcd and every instance: a paused instance does not tick, etcd's time goes on. */
class Clock {
  t = 1_000_000;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * An etcd that keeps leases, keys and watches in memory, with etcd's
 * semantics for what the election uses: a lease expires TTL after its last
 * renewal and takes its keys with it; transactions are atomic.
 */
class FakeEtcd {
  down = false;
  private nextLease = 100;
  private revision = 1;
  readonly leases = new Map<string, { ttlSeconds: number; expiresAt: number }>();
  readonly keys = new Map<string, KeyInfo>();
  private readonly watchers = new Set<{ key: string; onEvent: (event: WatchEvent) => void }>();
  /** Called inside each keepalive, after the request left and before the answer (simulates a slow answer). */
  duringKeepAlive: (() => void) | undefined;
  calls = 0;

  constructor(readonly clock: Clock) {}

  /** Expires what is due (etcd's lessor does this on its own clock). */
  expire(): void {
    if (this.down) return;
    for (const [id, lease] of this.leases) {
      if (lease.expiresAt <= this.clock.t) this.revoke(id);
    }
  }

  revoke(id: string): void {
    this.leases.delete(id);
    for (const [key, kv] of [...this.keys]) {
      if (kv.lease === id) this.delete(key);
    }
  }

  delete(key: string): void {
    if (!this.keys.delete(key)) return;
    this.revision += 1;
    for (const w of this.watchers) if (w.key === key) w.onEvent({ type: 'delete' });
  }

  put(key: string, value: string, lease: string): void {
    this.revision += 1;
    const kv = { value, lease, modRevision: String(this.revision) };
    this.keys.set(key, kv);
    for (const w of this.watchers) if (w.key === key) w.onEvent({ type: 'put', kv: { ...kv } });
  }

  private enter(): void {
    this.calls += 1;
    if (this.down) throw new Error('14 UNAVAILABLE: No connection established');
    this.expire();
  }

  client(): EtcdStore {
    return {
      grantLease: async (ttlSeconds) => {
        this.enter();
        const id = String((this.nextLease += 1));
        this.leases.set(id, { ttlSeconds, expiresAt: this.clock.t + ttlSeconds * 1000 });
        return { id, ttlSeconds };
      },
      keepAlive: async (id) => {
        this.enter();
        this.duringKeepAlive?.();
        this.expire();
        const lease = this.leases.get(id);
        if (!lease) return 0;
        lease.expiresAt = this.clock.t + lease.ttlSeconds * 1000;
        return lease.ttlSeconds;
      },
      revokeLease: async (id) => {
        this.enter();
        this.revoke(id);
      },
      createIfAbsent: async (key, value, lease): Promise<CreateOutcome> => {
        this.enter();
        const current = this.keys.get(key);
        if (current) return { created: false, current: { ...current } };
        if (!this.leases.has(lease)) throw new Error('etcdserver: requested lease not found');
        this.put(key, value, lease);
        return { created: true };
      },
      get: async (key) => {
        this.enter();
        const kv = this.keys.get(key);
        return kv ? { ...kv } : undefined;
      },
      putIfHeld: async (guard, key, value) => {
        this.enter();
        const held = this.keys.get(guard.key);
        if (!held || held.value !== guard.value || held.lease !== guard.lease) return false;
        this.put(key, value, '0');
        return true;
      },
      watch: (key, onEvent): WatchHandle => {
        const watcher = { key, onEvent };
        this.watchers.add(watcher);
        return { close: async () => void this.watchers.delete(watcher) };
      },
      close: async () => undefined,
    };
  }
}

const BASE: HrMasterEtcdConfig = {
  endpoints: 'http://127.0.0.1:2379',
  cluster_name: 'unit',
  prefix: '',
  instance_name: '',
  lease_ttl_seconds: 6,
  safety_margin_ms: 0,
  request_timeout_ms: 0,
  username: '',
  password_key: 'etcd_password',
  ca_file: '',
  cert_file: '',
  key_file: '',
};

/** An instance driven by hand (tick()); `watch: false` models one that hears no events (stopped, or its watch broken). */
function instance(etcd: FakeEtcd, name: string, overrides: Partial<HrMasterEtcdConfig> = {}, watch = true): { election: EtcdElection; logger: MemoryLogger } {
  const logger = new MemoryLogger();
  const settings = resolveSettings({ ...BASE, instance_name: name, ...overrides });
  const election = new EtcdElection(settings, { store: etcd.client(), logger, now: etcd.clock.now });
  if (watch) election.startWatch();
  return { election, logger };
}

describe('hr_master_etcd election (fake etcd)', () => {
  it('the first instance is elected; the others stand by and name it', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a');
    const b = instance(etcd, 'hr-b');
    await a.election.tick();
    await b.election.tick();
    const da = a.election.check();
    const db = b.election.check();
    assert.equal(da.acting, true);
    assert.equal(da.acting_instance, 'hr-a');
    assert.match(da.details, /hr-a holds \/handyrep\/unit\/leader/);
    assert.equal(db.acting, false);
    assert.equal(db.acting_instance, 'hr-a');
    assert.match(db.details, /hr-a acts .* hr-b stands by/);
    assert.equal(etcd.keys.get('/handyrep/unit/leader')?.value, 'hr-a');
    assert.ok(etcd.keys.has('/handyrep/unit/instances/hr-a') && etcd.keys.has('/handyrep/unit/instances/hr-b'));
    assert.match(a.logger.text(), /elected: hr-a holds/);
    assert.match(a.logger.text(), /hr-a now acts/);
  });

  it('check() is local: it asks etcd nothing', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a');
    await a.election.tick();
    const before = etcd.calls;
    for (let i = 0; i < 100; i += 1) a.election.check();
    assert.equal(etcd.calls, before);
  });

  it('acts only while the last confirmed renewal was sent less than TTL − margin ago (monotonic clock), and stops before the lease can expire', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a'); // TTL 6 s, margin 2 s: window 4 s
    await a.election.tick();
    etcd.down = true; // cut off: nothing renews any more
    etcd.clock.advance(3_999);
    await a.election.tick();
    assert.equal(a.election.check().acting, true, 'inside the window');
    etcd.clock.advance(1);
    await a.election.tick();
    const decision = a.election.check();
    assert.equal(decision.acting, false, 'at TTL − margin');
    assert.equal(decision.acting_instance, null);
    assert.match(decision.details, /last renewed 4\.0 s ago \(safe window 4\.0 s\): not acting until etcd confirms the lease; etcd: 14 UNAVAILABLE/);
    // The lease itself still has 2 s: this instance stopped first.
    const lease = [...etcd.leases.values()][0];
    assert.ok(lease && lease.expiresAt - etcd.clock.t === 2_000);
    assert.match(a.logger.text(), /etcd does not answer: 14 UNAVAILABLE/);
    assert.match(a.logger.text(), /hr-a stopped acting/);
  });

  it('counts from when a renewal was sent, not when its answer came', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a');
    await a.election.tick();
    etcd.clock.advance(1_000);
    etcd.duringKeepAlive = () => etcd.clock.advance(3_500); // the answer takes 3.5 s
    await a.election.tick();
    etcd.duringKeepAlive = undefined;
    // Sent 3.5 s ago: 0.5 s left of the 4 s window.
    assert.equal(a.election.check().acting, true);
    etcd.clock.advance(500);
    assert.equal(a.election.check().acting, false);
  });

  it('a paused instance that resumes past its lease does not act, before and after it hears from etcd; the other took over', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a', {}, false);
    const b = instance(etcd, 'hr-b');
    await a.election.tick();
    await b.election.tick();
    assert.equal(a.election.check().acting, true);

    // SIGSTOP hr-a for 10 s: it does nothing while etcd and hr-b go on.
    for (let t = 0; t < 10_000; t += 1_000) {
      etcd.clock.advance(1_000);
      etcd.expire();
      await b.election.tick();
    }
    assert.equal(b.election.check().acting, true, 'hr-b took over');
    assert.equal(b.election.check().acting_instance, 'hr-b');

    // SIGCONT: the first thing hr-a is asked, before any answer from etcd.
    const resumed = a.election.check();
    assert.equal(resumed.acting, false);
    assert.match(resumed.details, /last renewed 10\.0 s ago/);
    // Then its own round: the lease is gone, it takes a new one and stands by.
    await a.election.tick();
    const after = a.election.check();
    assert.equal(after.acting, false);
    assert.equal(after.acting_instance, 'hr-b');
    assert.match(a.logger.text(), /lease \d+ expired .*taking a new lease/);
    assert.match(a.logger.text(), /hr-a stopped acting/);
    // And it cannot write the shared state.
    assert.equal(await a.election.write({ generation: 9, state: { from: 'hr-a' } }), false);
    assert.equal(etcd.keys.get('/handyrep/unit/state'), undefined);
  });

  it('a stopped instance that missed every event still cannot write: the guard is checked in etcd', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a', {}, false);
    const b = instance(etcd, 'hr-b');
    await a.election.tick();
    assert.equal(await a.election.write({ generation: 1, state: { n: 1 } }), true);
    // An operator deletes the key while hr-a's watch is down; hr-b takes it. hr-a's lease is alive.
    const leaderKey = '/handyrep/unit/leader';
    const kv = etcd.keys.get(leaderKey);
    assert.ok(kv);
    etcd.keys.delete(leaderKey); // silently: no watch event
    await b.election.tick();
    assert.equal(b.election.check().acting, true);
    assert.equal(a.election.check().acting, true, 'hr-a has not noticed yet');
    assert.equal(await a.election.write({ generation: 2, state: { n: 2 } }), false, 'the transaction refuses it');
    assert.equal(a.election.check().acting, false, 'and now it knows');
    assert.match(a.logger.text(), /shared state generation 2 not written: \/handyrep\/unit\/leader is no longer held by hr-a/);
    assert.deepEqual(JSON.parse(etcd.keys.get('/handyrep/unit/state')?.value ?? 'null'), { generation: 1, state: { n: 1 } });
    assert.equal(await b.election.write({ generation: 2, state: { n: 2, by: 'hr-b' } }), true);
    assert.deepEqual(await a.election.read(), { generation: 2, state: { n: 2, by: 'hr-b' } });
  });

  it('writes nothing while not acting, without asking etcd', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a');
    const b = instance(etcd, 'hr-b');
    await a.election.tick();
    await b.election.tick();
    const before = etcd.calls;
    assert.equal(await b.election.write({ generation: 5, state: {} }), false);
    assert.equal(etcd.calls, before);
  });

  it('losing etcd: the acting instance stops acting after the window and acts again once etcd confirms its lease; nothing else happens', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a');
    const b = instance(etcd, 'hr-b');
    await a.election.tick();
    await b.election.tick();
    etcd.down = true;
    for (let t = 0; t < 8_000; t += 1_000) {
      etcd.clock.advance(1_000);
      await a.election.tick();
      await b.election.tick();
      assert.equal(b.election.check().acting, false, 'the standby never acts without etcd');
    }
    assert.equal(a.election.check().acting, false);
    assert.equal(b.election.check().acting_instance, null, 'after a whole TTL without etcd, who acts is unknown');
    await assert.rejects(a.election.read(), /UNAVAILABLE/);
    // etcd comes back; its leases were not expired meanwhile (a restarted etcd renews them).
    etcd.down = false;
    for (const lease of etcd.leases.values()) lease.expiresAt = etcd.clock.t + lease.ttlSeconds * 1000;
    await a.election.tick();
    await b.election.tick();
    assert.equal(a.election.check().acting, true);
    assert.equal(b.election.check().acting_instance, 'hr-a');
    assert.match(a.logger.text(), /etcd answers again after 7\.0 s/);
  });

  it('close() resigns: the lease is revoked and another instance is elected at once', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a');
    const b = instance(etcd, 'hr-b');
    await a.election.tick();
    await b.election.tick();
    await a.election.close();
    assert.equal(a.election.check().acting, false);
    assert.equal(etcd.keys.get('/handyrep/unit/leader'), undefined, 'the key went with the lease');
    assert.match(a.logger.text(), /lease \d+ revoked: hr-a resigned/);
    await b.election.tick();
    assert.equal(b.election.check().acting, true);
  });

  it('the loop wakes a standby the moment the leader key is deleted', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a');
    await a.election.tick();
    const logger = new MemoryLogger();
    // A long renewal interval: only the watch can make it campaign quickly.
    const b = new EtcdElection(resolveSettings({ ...BASE, instance_name: 'hr-b', lease_ttl_seconds: 300 }), { store: etcd.client(), logger, now: etcd.clock.now });
    b.start();
    const settle = async (done: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !done(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await settle(() => b.check().acting_instance === 'hr-a');
    assert.equal(b.check().acting_instance, 'hr-a');
    await a.election.close();
    // No clock moves here: only the watch can have made it campaign before the next renewal (150 s away).
    await settle(() => b.check().acting);
    assert.equal(b.check().acting, true);
    await b.close();
  });

  it('an instance whose name is held by another live instance does not campaign', async () => {
    const etcd = new FakeEtcd(new Clock());
    const first = instance(etcd, 'hr-a');
    await first.election.tick();
    await first.election.close();
    // The key of a live instance named hr-b, then a second hr-b.
    const b1 = instance(etcd, 'hr-b');
    await b1.election.tick();
    const b2 = instance(etcd, 'hr-b');
    await b2.election.tick();
    assert.equal(b1.election.check().acting, true);
    assert.equal(b2.election.check().acting, false);
    assert.equal(b2.election.check().acting_instance, 'hr-b');
    assert.match(b2.logger.text(), /instance name 'hr-b' is held by another live HandyRep instance/);
    // Even if the key were free, b2 holding a different lease could never count as holding it.
    await b1.election.close();
    await b2.election.tick();
    assert.equal(b2.election.check().acting, true, 'once the name is free it campaigns');
  });

  it('read() returns the record and refuses a corrupt one', async () => {
    const etcd = new FakeEtcd(new Clock());
    const a = instance(etcd, 'hr-a');
    assert.equal(await a.election.read(), undefined);
    etcd.put('/handyrep/unit/state', '{"generation": 3, "state": {"servers": {}}}', '0');
    assert.deepEqual(await a.election.read(), { generation: 3, state: { servers: {} } });
    etcd.put('/handyrep/unit/state', 'not json', '0');
    await assert.rejects(a.election.read(), /not JSON/);
    etcd.put('/handyrep/unit/state', '{"generation": -1, "state": {}}', '0');
    await assert.rejects(a.election.read(), /not a \{generation, state\} record/);
  });

  it('logs "stopped acting" when the window ends, without being asked', async () => {
    const etcd = new FakeEtcd(new Clock());
    const logger = new MemoryLogger();
    // Real monotonic time here: TTL 2 s, margin 1 s, so the window is 1 s.
    const a = new EtcdElection(resolveSettings({ ...BASE, instance_name: 'hr-a', lease_ttl_seconds: 2, safety_margin_ms: 1000 }), { store: etcd.client(), logger });
    await a.tick();
    assert.equal(a.check().acting, true);
    const renewed = performance.now();
    etcd.down = true;
    // The timer may fire late on a loaded machine: wait for the line (bounded), then check it did not come early.
    const deadline = performance.now() + 10_000;
    let loggedAt: number | undefined;
    while (loggedAt === undefined && performance.now() < deadline) {
      if (logger.lines.some((l) => /hr-a stopped acting/.test(l.message))) loggedAt = performance.now();
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(loggedAt !== undefined, `logged by the timer: ${JSON.stringify(logger.lines.map((l) => l.message))}`);
    assert.ok(loggedAt - renewed >= 1_000, `logged ${Math.round(loggedAt - renewed)} ms after the renewal, before the 1 s window ended`);
    await a.close();
  });

  it('uses the smaller of the asked and the granted TTL', async () => {
    const etcd = new FakeEtcd(new Clock());
    const store = etcd.client();
    const greedy: EtcdStore = { ...store, grantLease: async (ttl, timeout) => ({ ...(await store.grantLease(ttl, timeout)), ttlSeconds: 60 }) };
    const logger = new MemoryLogger();
    const a = new EtcdElection(resolveSettings({ ...BASE, instance_name: 'hr-a' }), { store: greedy, logger, now: etcd.clock.now });
    await a.tick();
    etcd.clock.advance(4_000);
    assert.equal(a.check().acting, false);
  });
});

describe('hr_master_etcd settings', () => {
  it('derives the prefix, margin, renewal interval and request deadline', () => {
    const s = resolveSettings({ ...BASE, lease_ttl_seconds: 10 }, () => 'box-1');
    assert.deepEqual(s, {
      endpoints: ['http://127.0.0.1:2379'],
      prefix: '/handyrep/unit',
      instance: 'box-1',
      ttlSeconds: 10,
      marginMs: 3333,
      requestTimeoutMs: 2222,
      keepaliveIntervalMs: 2222,
    });
    assert.equal(resolveSettings({ ...BASE, prefix: '/x/y', instance_name: ' hr-1 ' }).prefix, '/x/y');
    assert.equal(resolveSettings({ ...BASE, instance_name: ' hr-1 ' }).instance, 'hr-1');
  });

  it('takes endpoints as a list or comma-separated, and refuses bad ones', () => {
    assert.deepEqual(resolveSettings({ ...BASE, endpoints: 'http://127.0.0.1:2379, http://127.0.0.2:2379' }).endpoints, ['http://127.0.0.1:2379', 'http://127.0.0.2:2379']);
    assert.deepEqual(resolveSettings({ ...BASE, endpoints: ['https://127.0.0.1:2379'] }).endpoints, ['https://127.0.0.1:2379']);
    assert.throws(() => resolveSettings({ ...BASE, endpoints: '' }), /at least one etcd URL/);
    assert.throws(() => resolveSettings({ ...BASE, endpoints: '127.0.0.1:2379' }), /not http\(s\):\/\/host:port/);
    assert.throws(() => resolveSettings({ ...BASE, endpoints: 'http://127.0.0.1:2379,https://127.0.0.2:2379' }), /mix of http/);
  });

  it('refuses a margin that leaves no safety or no window', () => {
    assert.throws(() => resolveSettings({ ...BASE, lease_ttl_seconds: 5, safety_margin_ms: 100 }), /between 200 and .*\(4000\)/);
    assert.throws(() => resolveSettings({ ...BASE, lease_ttl_seconds: 5, safety_margin_ms: 4500 }), /safety_margin_ms/);
    assert.equal(resolveSettings({ ...BASE, lease_ttl_seconds: 5, safety_margin_ms: 1000 }).keepaliveIntervalMs, 1333);
  });
});
