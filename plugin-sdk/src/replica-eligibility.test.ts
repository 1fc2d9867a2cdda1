import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaCandidate } from './kinds/replica-selection.js';
import { compareServerNames, partitionCandidates, rankCandidates, replicaExclusionReasons } from './replica-eligibility.js';
import { testCandidate } from './testing/test-candidate.js';

/** A healthy, eligible replica with a 100 MB lag limit unless told otherwise. */
function candidate(name: string, fields: Partial<ReplicaCandidate> = {}): ReplicaCandidate {
  return testCandidate(name, { failover_lag_limit: 100, ...fields });
}

describe('replicaExclusionReasons', () => {
  it('has nothing against a healthy replica within its lag limit, or with an unknown lag', () => {
    assert.deepEqual(replicaExclusionReasons(candidate('a')), []);
    assert.deepEqual(replicaExclusionReasons(candidate('a', { lag_mb: 100 })), [], 'exactly at the limit is allowed');
    assert.deepEqual(replicaExclusionReasons(candidate('a', { lag_mb: null })), []);
    for (const status of ['lagged', 'warning', 'unknown']) assert.deepEqual(replicaExclusionReasons(candidate('a', { status })), [], status);
  });

  it('lists every reason, in a fixed order', () => {
    const all = candidate('a', { nofailover: true, reachable: false, in_recovery: false, status: 'down', lag_mb: 100.5 });
    assert.deepEqual(replicaExclusionReasons(all), [
      'nofailover is set',
      'did not answer the latest check',
      'not in recovery (not a replica)',
      'status is down',
      'lag 100.5 MB exceeds failover_lag_limit 100 MB',
    ]);
    assert.deepEqual(replicaExclusionReasons(candidate('a', { status: 'unavailable' })), ['status is unavailable']);
  });

  it('drops only the lag reason when told to ignore the lag limit', () => {
    assert.deepEqual(replicaExclusionReasons(candidate('a', { lag_mb: 5000 }), { ignoreLagLimit: true }), []);
    assert.deepEqual(replicaExclusionReasons(candidate('a', { lag_mb: 5000, nofailover: true }), { ignoreLagLimit: true }), ['nofailover is set']);
    assert.equal(replicaExclusionReasons(candidate('a', { lag_mb: 5000 }), { ignoreLagLimit: false }).length, 1);
  });
});

describe('partitionCandidates', () => {
  it('keeps input order on both sides and joins reasons', () => {
    const reasons = (c: ReplicaCandidate): string[] => (c.name.startsWith('x') ? ['first', 'second'] : []);
    const { eligible, excluded } = partitionCandidates([candidate('b'), candidate('x1'), candidate('a'), candidate('x0')], reasons);
    assert.deepEqual(eligible.map((c) => c.name), ['b', 'a']);
    assert.deepEqual(excluded, [
      { name: 'x1', reason: 'first; second' },
      { name: 'x0', reason: 'first; second' },
    ]);
  });

  it('counts a repeated name once, the first entry, without asking for its reasons again', () => {
    const asked: string[] = [];
    const { eligible, excluded } = partitionCandidates([candidate('a', { failover_priority: 1 }), candidate('a', { failover_priority: 2 })], (c) => {
      asked.push(`${c.name}/${c.failover_priority}`);
      return [];
    });
    assert.deepEqual(asked, ['a/1']);
    assert.equal(eligible.length, 1);
    assert.equal(eligible[0]?.failover_priority, 1);
    assert.deepEqual(excluded, [{ name: 'a', reason: 'listed more than once (the first entry counts)' }]);
  });
});

describe('compareServerNames', () => {
  it('orders by code unit, not by locale or number', () => {
    assert.deepEqual(['db3', 'db10', 'Zeta', 'db2', 'alpha'].sort(compareServerNames), ['Zeta', 'alpha', 'db10', 'db2', 'db3']);
    assert.equal(compareServerNames('a', 'a'), 0);
  });
});

describe('rankCandidates', () => {
  it('sorts the eligible ones with the given order and reports the rest', () => {
    const input = Object.freeze(
      [candidate('a', { failover_priority: 3 }), candidate('b', { nofailover: true }), candidate('c', { failover_priority: 1 })].map((c) => Object.freeze(c)),
    );
    const selection = rankCandidates(input, (c) => replicaExclusionReasons(c), (x, y) => x.failover_priority - y.failover_priority);
    assert.deepEqual(selection, { ordered: ['c', 'a'], excluded: [{ name: 'b', reason: 'nofailover is set' }] });
    assert.deepEqual(input.map((c) => c.name), ['a', 'b', 'c'], 'the input keeps its order');
  });

  it('is empty for no candidates', () => {
    assert.deepEqual(rankCandidates([], () => [], () => 0), { ordered: [], excluded: [] });
  });
});
