import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { success } from '@handyrep/plugin-sdk';
import type { ReturnDictionary } from '@handyrep/plugin-sdk';
import { swapMaster } from '../failover/swap-master.js';
import { fakeClusterPerTest } from '../test-support/fake-cluster.js';
import type { FakeCluster } from '../test-support/fake-cluster.js';
import { AvailabilityService } from './availability-service.js';

// Issue 12: AvailabilityService through the real DI container and a fake cluster.

const open = fakeClusterPerTest();

/** A point a fake call waits at until the test opens it; `arrived` resolves once a call is waiting. */
function gate(): { wait: () => Promise<void>; open: () => void; arrived: Promise<void> } {
  let open: () => void = () => undefined;
  let arrive: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  return {
    wait: async () => {
      arrive();
      await opened;
    },
    open,
    arrived,
  };
}

type Info = Record<string, { enabled: boolean; status: string; status_message: string; status_ts: string; role: string }>;

async function info(c: FakeCluster, name: string): Promise<Info[string]> {
  const all = (await c.hr.getServerInfo(name)) as Info;
  const one = all[name];
  assert.ok(one, `no server ${name}`);
  return one;
}

describe('AvailabilityService: a late check never overwrites a disabled server', () => {
  it('a verification of the master that finishes after the master was failed over leaves its "former master" status alone', async () => {
    const c = await open();
    const held = gate();
    c.hooks.sql = async (query) => {
      if (query.target.server === 'pg1' && /pg_is_in_recovery/.test(query.text)) await held.wait();
    };
    const verifying = c.hr.verifyAll();
    await held.arrived;
    // Meanwhile a failover swaps the masters (the registry step of the executor).
    swapMaster(c.runtime.registry, c.clock, 'pg1', 'pg2', 'failed over during the test');
    const before = await info(c, 'pg1');
    assert.equal(before.status, 'down');
    held.open();
    await verifying;

    const after = await info(c, 'pg1');
    assert.equal(after.enabled, false);
    assert.equal(after.status, 'down', 'not turned "healthy" by the late verification');
    assert.equal(after.status_message, before.status_message);
    assert.match(after.status_message, /former master, disabled/);
  });

  it('a poll that finishes after its server was disabled does not change its status', async () => {
    const c = await open();
    await c.hr.pollAll();
    const held = gate();
    c.hooks.poll = async (server, fallback) => {
      if (server === 'pg3') await held.wait();
      return fallback();
    };
    c.set('pg3', { pg: 'down' }); // the late poll would say "unavailable"
    const polling = c.hr.pollAll();
    await held.arrived;
    const disabled = await c.hr.disable('pg3');
    assert.equal(disabled.result, 'SUCCESS', disabled.details);
    const before = await info(c, 'pg3');
    held.open();
    await polling;
    const after = await info(c, 'pg3');
    assert.equal(after.enabled, false);
    assert.equal(after.status, before.status);
    assert.equal(after.status_message, before.status_message);
    assert.equal(after.status, 'healthy', 'still what the last check before the disable said');
  });

  it('a replica verification that finishes after the replica was disabled does not change its status', async () => {
    const c = await open();
    await c.hr.pollAll();
    const held = gate();
    c.hooks.lag = async (replica, fallback) => {
      if (replica === 'pg3') await held.wait();
      return fallback();
    };
    const verifying = c.hr.verifyAll();
    await held.arrived;
    c.runtime.registry.disable('pg3');
    const before = await info(c, 'pg3');
    held.open();
    await verifying;
    const after = await info(c, 'pg3');
    assert.equal(after.status_message, before.status_message, 'not replaced by "replica verified"');
    assert.equal(after.status_ts, before.status_ts);
  });

  it('an enabled server is updated as usual (the guard only skips disabled ones)', async () => {
    const c = await open();
    await c.hr.pollAll();
    c.set('pg3', { pg: 'down' });
    await c.hr.pollAll();
    assert.equal((await info(c, 'pg3')).status, 'unavailable');
    await c.hr.verifyAll();
    assert.equal((await info(c, 'pg3')).status, 'down', 'a refusing port is verified down');
  });
});

describe("AvailabilityService.pollAll: failover_ok", () => {
  const pollAll = async (c: FakeCluster) => (await c.hr.pollAll()) as ReturnDictionary<{ failover_ok: boolean }>;

  it('master and replicas up: SUCCESS, failover_ok', async () => {
    const c = await open();
    const result = await pollAll(c);
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.failover_ok, true);
  });

  it('every replica down: the master is fine, but failover_ok is false', async () => {
    const c = await open();
    c.set('pg2', { pg: 'down' });
    c.set('pg3', { pg: 'silent' });
    const result = await pollAll(c);
    assert.equal(result.result, 'SUCCESS');
    assert.equal(result.failover_ok, false);
  });

  it('one replica left answering is enough', async () => {
    const c = await open();
    c.set('pg2', { pg: 'down' });
    assert.equal((await pollAll(c)).failover_ok, true);
  });

  it('a master that does not answer: FAIL, and failover_ok says whether a replica could take over', async () => {
    const c = await open();
    c.kill('pg1');
    const result = await pollAll(c);
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /master pg1 is not responding to polling: connection refused/);
    assert.equal(result.failover_ok, true);
    c.set('pg2', { pg: 'down' });
    c.set('pg3', { pg: 'down' });
    assert.equal((await pollAll(c)).failover_ok, false);
  });

  it('a "master" in recovery: FAIL, status warning', async () => {
    const c = await open();
    c.set('pg1', { inRecovery: true });
    const result = await pollAll(c);
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /master pg1 is in recovery: it is a replica, not a master/);
    assert.equal((await info(c, 'pg1')).status, 'warning');
  });

  it('a lagged replica still counts; a replica with a warning does not, nor a disabled one', async () => {
    const c = await open();
    c.hooks.lag = async (replica, fallback) => (replica === 'pg2' ? success('lag', { lag_bytes: 500 * 1024 * 1024, lag_mb: 500, connected: true }) : fallback());
    c.set('pg3', { ssh: 'refused' }); // verify_replica: cannot ssh → warning
    await c.hr.verifyAll();
    assert.equal((await info(c, 'pg2')).status, 'lagged');
    assert.equal((await info(c, 'pg3')).status, 'warning');
    assert.equal((await pollAll(c)).failover_ok, true, 'pg2 is lagged, which is viable');
    c.runtime.registry.disable('pg2');
    assert.equal((await pollAll(c)).failover_ok, false, 'only pg3 is left, with a warning');
  });

  it('no enabled master: FAIL and failover_ok false', async () => {
    const c = await open();
    c.runtime.registry.disable('pg1');
    const result = await pollAll(c);
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /no master is configured/);
    assert.equal(result.failover_ok, false);
  });

  it('verifyAll reports the same failover_ok and each server', async () => {
    const c = await open();
    c.set('pg2', { pg: 'down' });
    c.set('pg3', { pg: 'down' });
    const verified = await c.resolve(AvailabilityService).verifyAll();
    assert.equal(verified.result, 'SUCCESS', verified.details);
    assert.equal(verified.failover_ok, false);
    assert.deepEqual(Object.keys(verified.servers).sort(), ['pg1', 'pg2', 'pg3']);
    assert.equal(verified.servers['pg2']?.status, 'down');
  });
});
