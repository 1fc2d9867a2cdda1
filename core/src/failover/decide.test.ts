import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaCandidate } from '@handyrep/plugin-sdk';
import { checkNamedCandidate, checkSelection } from './candidates.js';
import { decideFailedPromotion, decideFence, decideMaster, MAX_QUICK_RECHECKS, QUICK_RECHECK_MS } from './decide.js';
import type { Episode, FailedPromotion, FailoverPolicy, FenceObservation, MasterObservation, MasterStep } from './decide.js';
import type { MasterEvidence, ReplicaOpinion } from './master-verdict.js';

// One row per rule of docs/failover.md, and one per defect of issue 12 that the rules now prevent.

const T0 = 1_000_000;
const policy = (over: Partial<FailoverPolicy> = {}): FailoverPolicy => ({
  autoFailover: true,
  paused: false,
  restartMaster: false,
  failRetries: 3,
  failRetryIntervalMs: 1000,
  unreachableMasterPolicy: 'abort',
  ...over,
});
const episode = (over: Partial<Episode> = {}): Episode => ({ failingSince: T0, now: T0 + 20, retries: 1, quickRechecks: 0, restartAttempts: 0, ...over });
const streaming = (replica: string, lastMsgAgeMs: number): ReplicaOpinion => ({ replica, answered: true, receiverStatus: 'streaming', senderHost: 'db1', lastMsgAgeMs });
const lost = (replica: string): ReplicaOpinion => ({ replica, answered: true, receiverStatus: null, senderHost: null, lastMsgAgeMs: null });
const observed = (evidence: Partial<MasterEvidence>, verifiedAlive?: boolean): MasterObservation => ({
  evidence: { masterHost: 'db1', poll: 'timeout', ssh: 'timeout', replicas: [lost('r1'), lost('r2')], failingForMs: 20, verified: false, ...evidence },
  ...(verifiedAlive === undefined ? {} : { verifiedAlive }),
});

describe('decideMaster: the master rules of docs/failover.md', () => {
  const rows: [string, MasterObservation, Partial<Episode>, Partial<FailoverPolicy>, MasterStep['step'], Partial<MasterStep>?][] = [
    ['a master that answers its poll is healthy', observed({ poll: 'ok' }), {}, {}, 'healthy'],
    ['a master that passes verify_master is healthy', observed({ verified: true }, true), { retries: 3 }, {}, 'healthy'],
    ['port refused, SSH refused, no replica streams: certain death, fail over at once', observed({ poll: 'refused', ssh: 'refused' }), {}, {}, 'failover'],
    ['port refused, host unreachable, no replica streams: certain death', observed({ poll: 'refused', ssh: 'unreachable' }), {}, {}, 'failover'],
    ['a replica heard from the master after polls began failing: cut off from HandyRep only, never fail over',
      observed({ poll: 'timeout', replicas: [streaming('r1', 5)], failingForMs: 2000, verified: true }), { retries: 3 }, {}, 'warn_cut_off'],
    ['the replica veto holds even against certain death', observed({ poll: 'refused', ssh: 'refused', replicas: [streaming('r1', 1)], failingForMs: 50 }), {}, {}, 'warn_cut_off'],
    ['certain death but a replica still shows a stale stream: ask again shortly',
      observed({ poll: 'refused', ssh: 'refused', replicas: [streaming('r1', 900)], failingForMs: 10 }), {}, {}, 'observe', { kind: 'quick', atMs: T0 + 20 + QUICK_RECHECK_MS } as Partial<MasterStep>],
    ['after the quick re-checks, the retry window applies',
      observed({ poll: 'refused', ssh: 'refused', replicas: [streaming('r1', 900)], failingForMs: 10 }), { quickRechecks: MAX_QUICK_RECHECKS }, {}, 'observe', { kind: 'retry' } as Partial<MasterStep>],
    ['a time-out is ambiguous: the next retry is fail_retry_interval after the first failure',
      observed({}), {}, {}, 'observe', { kind: 'retry', atMs: T0 + 1000 } as Partial<MasterStep>],
    ['the last retry is the full verification', observed({}), { retries: 2 }, {}, 'observe', { kind: 'verify', atMs: T0 + 2000 } as Partial<MasterStep>],
    ['fail_retries 0 verifies at once', observed({}), {}, { failRetries: 0 }, 'observe', { kind: 'verify', atMs: T0 } as Partial<MasterStep>],
    ['verified down after the retry window: fail over', observed({ verified: true, failingForMs: 3000 }, false), { retries: 3 }, {}, 'failover'],
    ['verified but starting up (rejecting): hold, no failover', observed({ poll: 'rejecting', ssh: 'ok', verified: true }, false), { retries: 3 }, {}, 'hold'],
    ['a refused port on a host that answers SSH is a restart first with restart_master', observed({ poll: 'refused', ssh: 'ok' }), {}, { restartMaster: true }, 'restart'],
    ['without restart_master the same is ambiguous (postgres may be restarting)', observed({ poll: 'refused', ssh: 'ok' }), {}, {}, 'observe'],
    ['a declined restart is tried again on the next look, not only after the retry window', observed({ poll: 'refused', ssh: 'ok' }), { restartAttempts: 1 }, { restartMaster: true }, 'restart'],
    ['after three restarts, a verified dead master is failed over', observed({ poll: 'refused', ssh: 'ok', verified: true }, false), { retries: 3, restartAttempts: 3 }, { restartMaster: true }, 'failover'],
    ['after three restarts, an unverified one waits for the retry window', observed({ poll: 'refused', ssh: 'ok' }), { restartAttempts: 3 }, { restartMaster: true }, 'observe', { kind: 'retry' } as Partial<MasterStep>],
    ['no restart while paused', observed({ poll: 'refused', ssh: 'ok', verified: true }, false), { retries: 3 }, { restartMaster: true, paused: true }, 'refuse'],
    ['maintenance mode: a dead master is reported, nothing is done', observed({ poll: 'refused', ssh: 'refused' }), {}, { paused: true }, 'refuse'],
    ['auto_failover off: a dead master is reported, nothing is done', observed({ poll: 'refused', ssh: 'refused' }), {}, { autoFailover: false }, 'refuse'],
  ];
  for (const [title, observation, ep, pol, expected, fields] of rows) {
    it(title, () => {
      const step = decideMaster(observation, episode(ep), policy(pol));
      assert.equal(step.step, expected, step.reason);
      if (fields) for (const [key, value] of Object.entries(fields)) assert.equal((step as Record<string, unknown>)[key], value, key);
      assert.ok(step.reason.length > 0);
    });
  }

  it('refusals say why (paused, auto_failover off)', () => {
    assert.match(decideMaster(observed({ poll: 'refused', ssh: 'refused' }), episode(), policy({ paused: true })).reason, /paused/);
    assert.match(decideMaster(observed({ poll: 'refused', ssh: 'refused' }), episode(), policy({ autoFailover: false })).reason, /auto_failover is off/);
  });
});

describe('decideFence: fencing the old master', () => {
  const fence = (over: Partial<FenceObservation>): FenceObservation => ({ planned: false, confirmed: false, attempt: 'fencing failed: x', poll: 'not_checked', ...over });
  const rows: [string, Partial<FenceObservation>, FailoverPolicy['unreachableMasterPolicy'], boolean][] = [
    ['confirmed fencing proceeds', { confirmed: true }, 'abort', true],
    ['unconfirmed, but the port refuses: nothing can write, proceed', { poll: 'refused' }, 'abort', true],
    ['unconfirmed and it still accepts connections: stop', { poll: 'ok' }, 'failover', false],
    ['unconfirmed and starting up or shutting down: stop', { poll: 'rejecting' }, 'failover', false],
    ['no answer at all, unreachable_master_policy = abort: stop', { poll: 'timeout' }, 'abort', false],
    ['no answer at all, unreachable_master_policy = failover: proceed', { poll: 'unreachable' }, 'failover', true],
    ['no answer at all but the quorum fence detached enough members: proceed under abort', { poll: 'timeout', quorum: { fenced: true, details: 'fenced by quorum' } }, 'abort', true],
    ['no answer and no quorum: abort says so', { poll: 'timeout', quorum: { fenced: false, details: 'no quorum: 1 member(s) reachable, 2 needed' } }, 'abort', false],
    ['an error is not silence: a quorum result does not count for it', { poll: 'error', quorum: { fenced: true, details: 'fenced by quorum' } }, 'abort', false],
  ];
  for (const [title, over, unreachable, proceed] of rows) {
    it(title, () => {
      const decision = decideFence(fence(over), { unreachableMasterPolicy: unreachable });
      assert.equal(decision.proceed, proceed, decision.reason);
    });
  }
});

describe('decideFailedPromotion: never a second master (issue 12, defect 1)', () => {
  const rows: [string, FailedPromotion, string][] = [
    ['pg_promote timed out and it left recovery and takes writes: adopt it, promote nobody else', { promoteSent: null, stateBefore: 'writable' }, 'adopt'],
    ['the request never reached it and it is in recovery: the next candidate may be tried', { promoteSent: false, stateBefore: 'in_recovery' }, 'next_candidate'],
    ['pg_promote timed out and it is still in recovery: the promotion may still complete, fence it first', { promoteSent: null, stateBefore: 'in_recovery' }, 'fence'],
    ['promoted, but the test write timed out (out of recovery, write failed): fence it first', { promoteSent: true, stateBefore: 'out_of_recovery' }, 'fence'],
    ['no answer after a promotion that may have started: fence it first', { promoteSent: null, stateBefore: 'unknown' }, 'fence'],
    ['fenced and proven down: the next candidate may be tried', { promoteSent: true, stateBefore: 'out_of_recovery', fenced: true, stateAfter: 'down' }, 'next_candidate'],
    ['the stop failed and it still answers out of recovery: stop the failover', { promoteSent: true, stateBefore: 'out_of_recovery', fenced: false, stateAfter: 'out_of_recovery' }, 'stop'],
    ['the stop failed and it still answers in recovery after a sent request: stop (it may still promote)', { promoteSent: null, stateBefore: 'in_recovery', fenced: false, stateAfter: 'in_recovery' }, 'stop'],
    ['fencing could not be confirmed and it does not answer: stop', { promoteSent: null, stateBefore: 'unknown', fenced: false, stateAfter: 'unknown' }, 'stop'],
    ['the request never reached it, the stop failed, still in recovery: next candidate', { promoteSent: false, stateBefore: 'unknown', fenced: false, stateAfter: 'in_recovery' }, 'next_candidate'],
  ];
  for (const [title, failed, expected] of rows) {
    it(title, () => {
      const decision = decideFailedPromotion(failed);
      assert.equal(decision.step, expected, decision.reason);
    });
  }
});

const candidate = (name: string, lsn: bigint | null, over: Partial<ReplicaCandidate> = {}): ReplicaCandidate => ({
  name,
  status: 'healthy',
  reachable: true,
  in_recovery: true,
  received_lsn_bytes: lsn,
  lag_mb: 0,
  failover_priority: 999,
  nofailover: false,
  failover_lag_limit: 100,
  ...over,
});

describe('checkSelection: the core re-checks the selection plugin (issue 12, defect 6)', () => {
  const unplanned = { ignoreLagLimit: false, planned: false };
  it('drops a nofailover replica, one over its lag limit and the old master, with reasons', () => {
    const candidates = [candidate('r1', 100n, { nofailover: true }), candidate('r2', 100n, { lag_mb: 500 }), candidate('r3', 100n)];
    const checked = checkSelection({ ordered: ['r1', 'r2', 'db1', 'r3'], excluded: [] }, candidates, unplanned);
    assert.deepEqual(checked.ordered, ['r3']);
    assert.deepEqual(checked.excluded.map((e) => e.name).sort(), ['db1', 'r1', 'r2']);
    assert.match(checked.excluded.find((e) => e.name === 'r1')?.reason ?? '', /nofailover/);
    assert.match(checked.excluded.find((e) => e.name === 'r2')?.reason ?? '', /failover_lag_limit/);
    assert.match(checked.excluded.find((e) => e.name === 'db1')?.reason ?? '', /not an enabled replica/);
  });

  it('ignore_lag_limit keeps the lagging replica', () => {
    const checked = checkSelection({ ordered: ['r2'], excluded: [] }, [candidate('r2', 100n, { lag_mb: 500 })], { ignoreLagLimit: true, planned: false });
    assert.deepEqual(checked.ordered, ['r2']);
  });

  it('never promotes a replica behind an eligible one the plugin left out', () => {
    const checked = checkSelection({ ordered: ['r1'], excluded: [] }, [candidate('r1', 100n), candidate('r2', 200n)], unplanned);
    assert.deepEqual(checked.ordered, []);
    assert.match(checked.excluded[0]?.reason ?? '', /less WAL than r2/);
  });

  it('the most advanced goes first whatever the plugin says; ties keep the plugin order', () => {
    const candidates = [candidate('r1', 100n), candidate('r2', 300n), candidate('r3', 300n)];
    assert.deepEqual(checkSelection({ ordered: ['r1', 'r3', 'r2'], excluded: [] }, candidates, unplanned).ordered, ['r3', 'r2', 'r1']);
  });

  it('a planned switchover does not drop a replica for a momentary WAL difference', () => {
    const checked = checkSelection({ ordered: ['r1'], excluded: [{ name: 'r2', reason: 'plugin rule' }] }, [candidate('r1', 100n), candidate('r2', 200n)], { ignoreLagLimit: false, planned: true });
    assert.deepEqual(checked.ordered, ['r1']);
  });
});

describe('checkNamedCandidate: manual_failover to a named replica', () => {
  const candidates = [candidate('r1', 100n), candidate('r2', 200n), candidate('r3', 200n, { nofailover: true })];
  it('refuses one behind another replica unless the lag limit is overridden', () => {
    assert.match(checkNamedCandidate('r1', candidates, { ignoreLagLimit: false, planned: false }) ?? '', /less WAL than r2/);
    assert.equal(checkNamedCandidate('r1', candidates, { ignoreLagLimit: true, planned: false }), undefined);
  });
  it('a planned switchover accepts one momentarily behind that streams (the clean stop sends it the rest), not one that does not stream, never a nofailover one', () => {
    const planned = { ignoreLagLimit: false, planned: true };
    assert.equal(checkNamedCandidate('r1', candidates, planned, new Set(['r1', 'r2'])), undefined);
    assert.match(checkNamedCandidate('r1', candidates, planned, new Set(['r2'])) ?? '', /less WAL than r2/);
    assert.match(checkNamedCandidate('r3', candidates, planned, new Set(['r3'])) ?? '', /nofailover/);
  });
  it('refuses nofailover, unknown servers, and accepts the most advanced', () => {
    assert.match(checkNamedCandidate('r3', candidates, { ignoreLagLimit: false, planned: false }) ?? '', /nofailover/);
    assert.match(checkNamedCandidate('db1', candidates, { ignoreLagLimit: false, planned: false }) ?? '', /not an enabled replica/);
    assert.equal(checkNamedCandidate('r2', candidates, { ignoreLagLimit: false, planned: false }), undefined);
  });
});
