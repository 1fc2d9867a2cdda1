import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReturnDictionary } from '@handyrep/plugin-sdk';
import { ActionLock } from '../actions/action-lock.js';
import type { StatusDictionary } from '../api/information-api.js';
import { fakeClusterPerTest, T0 } from '../test-support/fake-cluster.js';
import type { FakeCluster } from '../test-support/fake-cluster.js';
import type { ScheduledSwitchover } from './scheduled-switchover.js';
import { SwitchoverScheduler } from './switchover-scheduler.js';

// The scheduler driven through the real DI container on a fake cluster and a fake clock
// (the daemon's monitor calls run() after each check and at the due time).

const open = fakeClusterPerTest();
const IN_A_MINUTE = new Date(T0 + 60_000).toISOString();

type Scheduled = ReturnDictionary<{ scheduled_switchover?: ScheduledSwitchover; code?: string }>;

async function schedule(c: FakeCluster, newmaster: string | null, at: unknown = IN_A_MINUTE): Promise<Scheduled> {
  return (await c.hr.manualFailover(newmaster, null, false, at as string)) as Scheduled;
}

async function pendingOnDisk(c: FakeCluster): Promise<unknown> {
  return (await c.savedState()).extra['scheduled_switchover'];
}

async function runAt(c: FakeCluster, ms: number): Promise<void> {
  c.clock.advance(ms - c.clock.now());
  await c.resolve(SwitchoverScheduler).run();
}

describe('SwitchoverScheduler: scheduling and cancelling', () => {
  it('schedules one switchover, saves it, shows it in get_status, refuses a second naming the first, and cancels it', async () => {
    const c = await open();
    const scheduled = await schedule(c, 'pg2');
    assert.equal(scheduled.result, 'SUCCESS', scheduled.details);
    assert.equal(scheduled.details, `switchover scheduled for ${IN_A_MINUTE}`);
    assert.deepEqual(scheduled.scheduled_switchover, { at: IN_A_MINUTE, newmaster: 'pg2', remaster: true, ignore_lag_limit: false, master: 'pg1', requested_at: new Date(T0).toISOString() });
    assert.deepEqual(await pendingOnDisk(c), scheduled.scheduled_switchover);
    const status = (await c.hr.getStatus()) as StatusDictionary;
    assert.deepEqual(status.cluster.scheduled_switchover, scheduled.scheduled_switchover);

    const second = await schedule(c, 'pg3', new Date(T0 + 120_000).toISOString());
    assert.equal(second.result, 'FAIL');
    assert.match(second.details, new RegExp(`to pg2 is already scheduled for ${IN_A_MINUTE}`));
    assert.deepEqual(await pendingOnDisk(c), scheduled.scheduled_switchover);

    const cancelled = (await c.hr.cancelSwitchover()) as Scheduled;
    assert.equal(cancelled.result, 'SUCCESS', cancelled.details);
    assert.equal(await pendingOnDisk(c), undefined);
    assert.equal(((await c.hr.getStatus()) as StatusDictionary).cluster.scheduled_switchover, undefined);
    const again = (await c.hr.cancelSwitchover()) as Scheduled;
    assert.equal(again.result, 'FAIL');
    assert.match(again.details, /no switchover is scheduled/);
  });

  it('refuses bad input and a refused check, changing nothing', async () => {
    const c = await open();
    const refusals: [string | null, unknown, RegExp][] = [
      ['pg2', 'next tuesday', /ISO-8601/],
      ['pg2', new Date(T0 - 1000).toISOString(), /in the past/],
      ['pg2', new Date(T0 + 31 * 86_400_000).toISOString(), /more than 30 days ahead/],
      ['pg9', IN_A_MINUTE, /pg9/],
      ['pg1', IN_A_MINUTE, /pg1 is already the master/],
    ];
    for (const [target, at, why] of refusals) {
      const result = await schedule(c, target, at);
      assert.equal(result.result, 'FAIL', `${target} at ${String(at)}`);
      assert.match(result.details, why);
    }
    c.kill('pg2');
    const down = await schedule(c, 'pg2');
    assert.equal(down.result, 'FAIL');
    assert.match(down.details, /switchover not scheduled: pg2 did not answer as a replica/);
    c.kill('pg1');
    const noMaster = await schedule(c, null);
    assert.equal(noMaster.result, 'FAIL');
    assert.match(noMaster.details, /master pg1 does not answer/);
    assert.equal(await pendingOnDisk(c), undefined);
  });

  it('survives a restart of HandyRep', async () => {
    const c = await open();
    const scheduled = await schedule(c, null);
    assert.equal(scheduled.result, 'SUCCESS', scheduled.details);
    await c.reopen();
    assert.deepEqual(((await c.hr.getStatus()) as StatusDictionary).cluster.scheduled_switchover, scheduled.scheduled_switchover);
  });
});

describe('SwitchoverScheduler: at the time', () => {
  it('waits before its time, then runs the switchover through manual_failover', async () => {
    const c = await open();
    assert.equal((await schedule(c, 'pg3')).result, 'SUCCESS');
    await runAt(c, T0 + 59_999);
    assert.equal(c.hr.getMasterName(), 'pg1');
    assert.ok(await pendingOnDisk(c));
    await runAt(c, T0 + 60_000);
    assert.equal(c.hr.getMasterName(), 'pg3');
    assert.equal(await pendingOnDisk(c), undefined);
    assert.equal(c.alerts('failover_finished').length, 1);
  });

  it('runs when started late within switchover_grace_seconds (HandyRep was down at the time)', async () => {
    const c = await open({ config: { failover: { switchover_grace_seconds: 30 } } });
    assert.equal((await schedule(c, 'pg2')).result, 'SUCCESS');
    await c.reopen();
    await runAt(c, T0 + 60_000 + 30_000);
    assert.equal(c.hr.getMasterName(), 'pg2');
  });

  it('is cancelled with an alert when another action holds the lock at its time', async () => {
    const c = await open();
    assert.equal((await schedule(c, 'pg2')).result, 'SUCCESS');
    let release: () => void = () => undefined;
    const holding = c.resolve(ActionLock).run('clone pg3', () => new Promise<void>((resolve) => (release = resolve)));
    try {
      await runAt(c, T0 + 60_000);
    } finally {
      release();
      await holding;
    }
    assert.equal(c.hr.getMasterName(), 'pg1');
    const alerts = c.alerts('status_warning').filter((alert) => /scheduled switchover .* cancelled: clone pg3 is running/.test(alert.detail ?? ''));
    assert.equal(alerts.length, 1, JSON.stringify(c.alerts()));
  });

  const cancellations: { rule: string; before: (c: FakeCluster) => Promise<void> | void; at: number; why: RegExp }[] = [
    { rule: 'its target is down', before: (c) => c.kill('pg2'), at: T0 + 60_000, why: /pg2 did not answer as a replica/ },
    { rule: 'the master is down', before: (c) => c.kill('pg1'), at: T0 + 60_000, why: /master pg1 does not answer/ },
    { rule: 'it is later than switchover_grace_seconds', before: () => undefined, at: T0 + 60_000 + 301_000, why: /more than switchover_grace_seconds \(300 s\)/ },
    { rule: 'HandyRep is paused', before: async (c) => void (await c.hr.pause()), at: T0 + 60_000, why: /paused/ },
    {
      rule: 'the master changed before its time',
      before: async (c) => assert.equal((await c.hr.manualFailover('pg3')).result, 'SUCCESS'),
      at: T0 + 1000,
      why: /master changed since it was scheduled \(pg1 then, pg3 now\)/,
    },
  ];
  for (const row of cancellations) {
    it(`is cancelled with an alert when ${row.rule}`, async () => {
      const c = await open();
      assert.equal((await schedule(c, 'pg2')).result, 'SUCCESS');
      await row.before(c);
      const masterBefore = c.hr.getMasterName();
      await runAt(c, row.at);
      assert.equal(c.hr.getMasterName(), masterBefore);
      assert.equal(await pendingOnDisk(c), undefined);
      const alerts = c.alerts('status_warning').filter((alert) => /scheduled switchover .* cancelled/.test(alert.detail ?? ''));
      assert.equal(alerts.length, 1, JSON.stringify(c.alerts()));
      assert.match(alerts[0]?.detail ?? '', row.why);
    });
  }
});
