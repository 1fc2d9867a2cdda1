import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASYNC, parseStandbyNames, planTransition, quorumOf, standbyNames, targetSyncSet } from './sync-rules.js';
import type { SyncCandidate, SyncSet } from './sync-rules.js';

const c = (name: string, eligible = true, streaming = true): SyncCandidate => ({ name, applicationName: name, eligible, streaming });
const set = (members: string[], k: number): SyncSet => ({ members, k });

describe('targetSyncSet: which standbys are synchronous', () => {
  it('quorum: the eligible, streaming replicas; nofailover, lagging or not streaming ones are left out', () => {
    assert.deepEqual(targetSyncSet('quorum', 1, [c('r2'), c('r1'), c('r3', false), c('r4', true, false)], ASYNC), set(['r1', 'r2'], 1));
  });
  it('quorum: k is lowered when too few remain, down to asynchronous', () => {
    assert.deepEqual(targetSyncSet('quorum', 2, [c('r1'), c('r2', true, false)], set(['r1', 'r2'], 2)), set(['r1'], 1));
    assert.deepEqual(targetSyncSet('quorum', 1, [c('r1', false)], set(['r1'], 1)), ASYNC);
  });
  it('quorum_strict: the set never shrinks below k (failed members stay)', () => {
    assert.deepEqual(targetSyncSet('quorum_strict', 2, [c('r1'), c('r2', true, false)], set(['r1', 'r2'], 2)), set(['r1', 'r2'], 2));
    assert.deepEqual(targetSyncSet('quorum_strict', 1, [c('r1'), c('r2', false)], set(['r1', 'r2'], 1)), set(['r1'], 1));
  });
  it('off: asynchronous', () => {
    assert.deepEqual(targetSyncSet('off', 1, [c('r1')], ASYNC), ASYNC);
  });
});

describe('synchronous_standby_names', () => {
  it('is written as ANY k with quoted names and read back', () => {
    assert.equal(standbyNames(set(['pg2', 'pg3'], 1)), 'ANY 1 ("pg2", "pg3")');
    assert.equal(standbyNames(ASYNC), '');
    assert.deepEqual(parseStandbyNames('ANY 1 ("pg3", "pg2")'), set(['pg2', 'pg3'], 1));
    assert.deepEqual(parseStandbyNames('FIRST 2 (a, B)'), set(['a', 'b'], 2));
    assert.deepEqual(parseStandbyNames('pg2'), set(['pg2'], 1));
    assert.deepEqual(parseStandbyNames(''), ASYNC);
  });
});

describe('planTransition: the recorded set always covers the applied one', () => {
  it('adding a member: record the wider set first, then apply', () => {
    const plan = planTransition(set(['a'], 1), set(['a'], 1), set(['a', 'b'], 1));
    assert.deepEqual(plan?.widen, set(['a', 'b'], 1));
    assert.equal(plan?.narrows, false);
  });
  it('removing a member: apply first, wait for catch-up, then record', () => {
    const plan = planTransition(set(['a', 'b'], 1), set(['a', 'b'], 1), set(['a'], 1));
    assert.equal(plan?.widen, undefined);
    assert.deepEqual(plan?.apply, set(['a'], 1));
    assert.equal(plan?.narrows, true);
  });
  it('lowering k: the lower k is recorded before it is applied', () => {
    const plan = planTransition(set(['a', 'b'], 2), set(['a', 'b'], 2), set(['a'], 1));
    assert.deepEqual(plan?.widen, set(['a', 'b'], 1));
    assert.equal(plan?.narrows, true);
  });
  it('raising k narrows (old commits have fewer copies): wait before recording', () => {
    assert.equal(planTransition(set(['a', 'b'], 1), set(['a', 'b'], 1), set(['a', 'b'], 2))?.narrows, true);
  });
  it('nothing to do when recorded and applied match the target; the applied set alone is re-applied', () => {
    assert.equal(planTransition(set(['a'], 1), set(['a'], 1), set(['a'], 1)), undefined);
    assert.deepEqual(planTransition(set(['a'], 1), ASYNC, set(['a'], 1))?.apply, set(['a'], 1));
  });
});

describe('quorumOf: |S| − k + 1 reachable members', () => {
  it('S = 2, k = 1: 2 − 1 + 1 = 2 members needed', () => {
    assert.deepEqual(quorumOf(set(['a', 'b'], 1), ['a', 'b']).ok, true);
    assert.deepEqual(quorumOf(set(['a', 'b'], 1), ['a']).ok, false);
  });
  it('S = 3, k = 2: two reachable members are a quorum', () => {
    assert.equal(quorumOf(set(['a', 'b', 'c'], 2), ['a', 'c']).ok, true);
    assert.equal(quorumOf(set(['a', 'b', 'c'], 2), ['c']).ok, false);
  });
  it('asynchronous (k = 0) is never a quorum; non-members do not count', () => {
    assert.equal(quorumOf(ASYNC, ['a']).ok, false);
    assert.equal(quorumOf(set(['a', 'b'], 1), ['a', 'x']).ok, false);
  });
});
