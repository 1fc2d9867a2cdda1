import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fail, success } from '@handyrep/plugin-sdk';
import { fakeClusterPerTest } from '../test-support/fake-cluster.js';
import type { FakeCluster } from '../test-support/fake-cluster.js';
import type { FailoverCheckResult } from './failover-check.js';
import { ActionLock } from '../actions/action-lock.js';
import { FailoverExecutor } from './failover-executor.js';

// Issue 12: the check loop (failover-check.ts) driven through the real DI
// container: retry windows on the fake clock, pause and auto_failover, and
// the repeat guard (no re-run of a refused conclusion on the same evidence).

const open = fakeClusterPerTest();

async function check(c: FakeCluster): Promise<FailoverCheckResult> {
  return (await c.hr.failoverCheck()) as FailoverCheckResult;
}

/** Fake-clock times (relative to `since`) of the events `what` on `server`. */
function timesOf(c: FakeCluster, what: string, server: string, since: number): number[] {
  return c.eventsOf(what).filter((event) => event.server === server).map((event) => event.at - since);
}

/** A master that answers nothing: its port and SSH time out, so the replicas lose it too. */
function silence(c: FakeCluster, name = 'pg1'): void {
  c.set(name, { pg: 'silent', ssh: 'timeout' });
}

describe('FailoverCheck: the retry window on ambiguous evidence', () => {
  it('re-polls at failingSince + n × fail_retry_interval and verifies only on the last, then fails over (unreachable_master_policy = failover)', async () => {
    const c = await open({ config: { failover: { fail_retries: 3, fail_retry_interval: 5, unreachable_master_policy: 'failover' } } });
    silence(c);
    const since = c.clock.now();
    const result = await check(c);

    // The check's own poll and the evidence poll at once, then one retry 5 s after the first failure, the verification at 10 s.
    assert.deepEqual(timesOf(c, 'poll', 'pg1', since), [0, 0, 5000, 10_000]);
    assert.deepEqual(timesOf(c, 'ssh', 'pg1', since), [0, 5000, 10_000, 10_000], 'an SSH probe per observation, and the verification\'s own');
    const verification = timesOf(c, 'sql', 'pg1', since);
    assert.ok(verification.length > 0, 'verify_master ran');
    assert.ok(verification.every((at) => at === 10_000), `verify_master only on the last observation: ${verification.join(', ')}`);

    assert.equal(result.verdict, 'dead');
    assert.equal(result.failover?.result, 'SUCCESS', result.details);
    assert.equal(result.failover?.new_master, 'pg2');
    assert.equal(result.failover?.fenced_by, 'policy', 'a silent host is not fenced over the network; the policy allowed it');
    assert.deepEqual(c.calls('faststop'), [], 'no fencing attempt over SSH against a host silent on both PostgreSQL and SSH');
    assert.deepEqual(c.calls('promote'), ['pg2']);
  });

  it('other retry settings move the observations accordingly (fail_retries 2, 7 s apart)', async () => {
    const c = await open({ config: { failover: { fail_retries: 2, fail_retry_interval: 7, unreachable_master_policy: 'failover' } } });
    silence(c);
    const since = c.clock.now();
    await check(c);
    assert.deepEqual(timesOf(c, 'poll', 'pg1', since), [0, 0, 7000]);
    assert.ok(timesOf(c, 'sql', 'pg1', since).every((at) => at === 7000));
  });

  it('a master that answers again during the window is healthy: no verification, no failover', async () => {
    const c = await open();
    silence(c);
    const since = c.clock.now();
    c.hooks.poll = async (server, fallback) => {
      if (server === 'pg1' && c.clock.now() >= since + 5000) c.set('pg1', { pg: 'up', ssh: 'ok' });
      return fallback();
    };
    const result = await check(c);
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.verdict, 'alive');
    assert.match(result.details, /master pg1 answered again/);
    assert.deepEqual(timesOf(c, 'poll', 'pg1', since), [0, 0, 5000]);
    assert.deepEqual(timesOf(c, 'sql', 'pg1', since), [], 'no verification');
    assert.deepEqual(c.calls('promote'), []);
  });

  it('a replica that still hears from the master: only HandyRep is cut off, warn and never fail over', async () => {
    const c = await open({ config: { failover: { unreachable_master_policy: 'failover' } } });
    silence(c);
    c.hooks.position = async (server, fallback) => {
      const answer = await fallback();
      return server === 'pg2' ? { ...answer, receiver_status: 'streaming', sender_host: 'h1', last_msg_age_ms: 10 } : answer;
    };
    const result = await check(c);
    assert.equal(result.result, 'FAIL');
    assert.equal(result.verdict, 'cut_off_from_handyrep');
    assert.match(result.details, /not safe to fail over: HandyRep cannot reach the master, but replica pg2 still streams from it/);
    assert.deepEqual(c.calls('promote'), []);
    assert.equal(c.alerts('failover_started').length, 0);
    const info = (await c.hr.getServerInfo('pg1')) as Record<string, { status: string }>;
    assert.equal(info['pg1']?.status, 'warning');
  });

  it('restart_master: a refused port on a host that answers SSH is restarted in place, not failed over', async () => {
    const c = await open({ config: { failover: { restart_master: true } } });
    c.set('pg1', { pg: 'down' });
    const result = await check(c);
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.restarted, true);
    assert.deepEqual(c.calls('start'), ['pg1']);
    assert.deepEqual(c.calls('promote'), []);
    assert.equal(c.server('pg1').pg, 'up');
  });
});

describe('FailoverCheck: nothing automatic when paused or with auto_failover off', () => {
  it('paused: a certainly dead master is reported (FAIL), the executor never runs', async () => {
    const c = await open();
    await c.hr.pause();
    c.kill('pg1');
    const result = await check(c);
    assert.equal(result.result, 'FAIL');
    assert.equal(result.verdict, 'dead');
    assert.match(result.details, /master pg1 is down: .*HandyRep is paused, so nothing is done: no automatic action/);
    assert.equal(result.failover, undefined);
    assert.deepEqual(c.resolve(FailoverExecutor).outcomeCounts(), { SUCCESS: 0, FAIL: 0 });
    assert.deepEqual(c.calls('faststop'), []);
    assert.deepEqual(c.calls('promote'), []);
    assert.equal(c.alerts('failover_started').length, 0);
    assert.equal(c.alerts('cluster_down').length, 1);
    assert.equal(c.hr.getMasterName(), 'pg1');
  });

  it('auto_failover off: the same, saying so', async () => {
    const c = await open({ config: { failover: { auto_failover: false } } });
    c.kill('pg1');
    const result = await check(c);
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /auto_failover is off: no automatic action/);
    assert.deepEqual(c.resolve(FailoverExecutor).outcomeCounts(), { SUCCESS: 0, FAIL: 0 });
    assert.deepEqual(c.calls('promote'), []);
  });

  it('after resume the same dead master is failed over', async () => {
    const c = await open();
    await c.hr.pause();
    c.kill('pg1');
    assert.equal((await check(c)).result, 'FAIL');
    await c.hr.resume();
    const result = await check(c);
    assert.equal(result.failover?.result, 'SUCCESS', result.details);
    assert.deepEqual(c.calls('promote'), ['pg2']);
  });
});

describe('FailoverCheck: a refused conclusion is not re-run on the same evidence (RepeatGuard)', () => {
  it('a failover refused by unreachable_master_policy = abort runs once; the same evidence says "not re-run"; new evidence and the reminder re-run it', async () => {
    const c = await open({ config: { failover: { alert_repeat_minutes: 60 } } });
    const executor = c.resolve(FailoverExecutor);
    silence(c);

    const first = await check(c);
    assert.equal(first.result, 'FAIL');
    assert.match(first.details, /not failing over because unreachable_master_policy = abort/);
    assert.ok(first.failover, 'the executor ran the first time');
    assert.deepEqual(executor.outcomeCounts(), { SUCCESS: 0, FAIL: 1 });

    const second = await check(c);
    assert.equal(second.result, 'FAIL');
    assert.match(second.details, /unreachable_master_policy = abort.*\(unchanged since .* UTC: no new evidence, not re-run\)/);
    assert.equal(second.verdict, 'dead');
    assert.equal(second.failover, undefined);
    assert.deepEqual(executor.outcomeCounts(), { SUCCESS: 0, FAIL: 1 }, 'the executor did not run again');
    assert.equal(c.alerts('failover_started').length, 1, 'no alert storm');
    assert.equal(c.alerts('failover_failed').length, 1);

    // New evidence: the host now refuses SSH (it answers), so the conclusion is reached again for real.
    c.set('pg1', { ssh: 'refused' });
    const third = await check(c);
    assert.ok(third.failover, third.details);
    assert.deepEqual(executor.outcomeCounts(), { SUCCESS: 0, FAIL: 2 });

    // Same evidence again within alert_repeat_minutes: not re-run; once they have passed, it is (the reminder).
    assert.match((await check(c)).details, /not re-run/);
    assert.deepEqual(executor.outcomeCounts(), { SUCCESS: 0, FAIL: 2 });
    c.clock.advance(61 * 60_000);
    const reminder = await check(c);
    assert.ok(reminder.failover, reminder.details);
    assert.deepEqual(executor.outcomeCounts(), { SUCCESS: 0, FAIL: 3 });
    assert.deepEqual(c.calls('promote'), []);
  });

  it('paused: the refusal is alerted once, the second check says "not re-run"', async () => {
    const c = await open();
    await c.hr.pause();
    c.kill('pg1');
    await check(c);
    const second = await check(c);
    assert.equal(second.result, 'FAIL');
    assert.match(second.details, /HandyRep is paused.*not re-run/);
    assert.equal(c.alerts('cluster_down').length, 1);
  });

  // BUG (reported, not fixed here: non-test code is out of this change's scope): FailoverCheck.run()
  // (failover-check.ts, the `checks.result === 'SUCCESS'` branch, line 119) returns "healthy" without
  // this.repeats.clear(); only a 'healthy' step inside masterFailed() clears the RepeatGuard. So a master
  // that recovered and was healthy for many checks, then fails again with the same evidence signature
  // within alert_repeat_minutes, gets "no new evidence, not re-run": no alert and no failover, even though
  // what made the first failover fail (here: replicas over failover_lag_limit) is long gone.
  // docs/failover.md counts a change of the master's port as new evidence, and RepeatGuard.clear() says
  // "Forgets: the master answered".
  it('a master that was healthy in between forgets the refused conclusion: the next failure is acted on again', async () => {
    const c = await open({ config: { failover: { alert_repeat_minutes: 60 } } });
    let lagMb = 5000;
    c.hooks.lag = async () => success('lag', { lag_bytes: lagMb * 1024 * 1024, lag_mb: lagMb, connected: true });
    await c.hr.verifyAll(); // both replicas measured far over failover_lag_limit (1000 MB)
    c.kill('pg1');
    const refused = await check(c);
    assert.match(refused.details, /no eligible replica .*over its failover_lag_limit/);

    // The master comes back; the replicas catch up and are verified so.
    c.set('pg1', { pg: 'up', ssh: 'ok' });
    lagMb = 0;
    await c.hr.verifyAll();
    assert.equal((await check(c)).result, 'SUCCESS');
    c.clock.advance(60_000);

    // It dies again the same way: a failover to pg2 is possible now and must run.
    c.kill('pg1');
    const again = await check(c);
    assert.doesNotMatch(again.details, /not re-run/);
    assert.equal(again.failover?.result, 'SUCCESS', again.details);
    assert.deepEqual(c.calls('promote'), ['pg2']);
  });
});

describe('FailoverCheck: an unresolved failover journal', () => {
  it('is resolved on the next check once the candidate is proven down; the failover then runs to another candidate', async () => {
    const c = await open();
    c.hooks.promote = async (server, fallback) => (server === 'pg2' ? fail('the promotion request timed out') : fallback());
    // The candidate's immediate stop does not work: pg2 cannot be proven down, the failover stops with the journal kept.
    c.hooks.faststop = async (server, fallback) => (server === 'pg2' ? success('pretends to have stopped', { exit_code: 0 }) : fallback());
    c.kill('pg1');
    const stuck = await check(c);
    assert.equal(stuck.failover?.result, 'FAIL');
    assert.match(stuck.details, /could not be proven in recovery or down/);
    assert.equal(((await c.savedState()).extra['failover_journal'] as { candidate?: string } | undefined)?.candidate, 'pg2');

    // Still in recovery within promotion_timeout: refused again, nothing promoted.
    const refused = await check(c);
    assert.match(refused.details, /an earlier failover from pg1 \(candidate pg2\) is unresolved; failovers are refused/);
    assert.match((await check(c)).details, /is unresolved.*not re-run/, 'and that refusal is not re-run on the same evidence');
    assert.deepEqual(c.calls('promote'), ['pg2']);

    // pg2 goes down: the journal is resolved (pg2 disabled for a rejoin), and the failover goes to pg3.
    c.set('pg2', { pg: 'down' });
    const resolved = await check(c);
    assert.equal(resolved.failover?.result, 'SUCCESS', resolved.details);
    assert.equal(resolved.failover?.new_master, 'pg3');
    assert.deepEqual(c.calls('promote'), ['pg2', 'pg3']);
    const saved = await c.savedState();
    assert.equal(saved.extra['failover_journal'], undefined);
    assert.equal(saved.servers['pg2']?.definition['enabled'], false);
  });
});

describe('FailoverCheck: former masters are watched on every check', () => {
  it('a former master that comes back out of recovery is stopped at once and alerted; it stays disabled', async () => {
    const c = await open();
    c.kill('pg1');
    assert.equal((await check(c)).failover?.new_master, 'pg2');
    // pg1's host comes back and its PostgreSQL starts as the master it was.
    c.set('pg1', { pg: 'up', ssh: 'ok', inRecovery: false });
    const checked = await check(c);
    assert.equal(checked.result, 'SUCCESS', checked.details);
    assert.deepEqual(c.calls('faststop'), ['pg1', 'pg1'], 'the fence of the failover, then the immediate stop now');
    assert.equal(c.server('pg1').pg, 'down');
    const info = (await c.hr.getServerInfo('pg1')) as Record<string, { enabled: boolean; status: string; status_message: string }>;
    assert.equal(info['pg1']?.enabled, false);
    assert.equal(info['pg1']?.status, 'down');
    assert.match(info['pg1']?.status_message ?? '', /former master pg1 came back out of recovery and could take writes: stopped at once/);
    assert.equal(c.alerts('cluster_down').length, 1);
  });

  it('a former master that comes back in recovery (already a replica) is left alone', async () => {
    const c = await open();
    c.kill('pg1');
    await check(c);
    c.set('pg1', { pg: 'up', ssh: 'ok', inRecovery: true });
    await check(c);
    assert.deepEqual(c.calls('faststop'), ['pg1'], 'only the failover\'s fence');
    assert.equal(c.server('pg1').pg, 'up');
  });
});

describe('FailoverCheck: a master down on purpose', () => {
  it('while an action that stopped the master holds the lock (restart, switchover), the check neither fails over nor alerts', async () => {
    const c = await open({ config: { failover: { unreachable_master_policy: 'failover' } } });
    const lock = c.resolve(ActionLock);
    const during = await lock.run('restart pg1', () =>
      lock.expectingDown('pg1', async () => {
        c.set('pg1', { pg: 'down', ssh: 'ok' });
        return check(c);
      }),
    );
    assert.equal(during.result, 'SUCCESS', during.details);
    assert.equal(during.planned_outage, 'restart pg1');
    assert.match(during.details, /down on purpose while restart pg1 runs/);
    assert.deepEqual(c.calls('promote'), []);
    assert.deepEqual(c.alerts('failover_failed'), []);

    // The same master still down once the action has ended is a failure like any other.
    const after = await check(c);
    assert.equal(after.planned_outage, undefined);
    assert.equal(after.failover?.result, 'SUCCESS', after.details);
  });

  it('an action holding the lock without declaring the master down does not hide a lost master', async () => {
    const c = await open({ config: { failover: { unreachable_master_policy: 'failover' } } });
    const lock = c.resolve(ActionLock);
    const during = await lock.run('clone pg3', async () => {
      c.set('pg1', { pg: 'down', ssh: 'ok' });
      return check(c);
    });
    assert.equal(during.planned_outage, undefined);
    assert.equal(during.result, 'FAIL');
    assert.match(during.details, /failover could not start/);
  });
});
