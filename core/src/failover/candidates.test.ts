import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { success } from '@handyrep/plugin-sdk';
import type { ReplicaPosition } from '@handyrep/plugin-sdk';
import { testServer } from '@handyrep/plugin-sdk/testing';
import { buildCandidates, enforceMostAdvancedFirst } from './candidates.js';

function position(received: string | null, inRecovery = true): ReplicaPosition {
  return success('', {
    received_lsn: received,
    replayed_lsn: received,
    in_recovery: inRecovery,
    receiver_status: null,
    sender_host: null,
    last_msg_age_ms: null,
  });
}

describe('buildCandidates', () => {
  it('measures lag against the most advanced replica when the master is gone', () => {
    const candidates = buildCandidates([
      { server: testServer({ name: 'a', failover_priority: 1, failover_lag_limit: 10 }), position: position('0/5000000') },
      { server: testServer({ name: 'b', failover_priority: 2 }), position: position('0/3000000') },
      { server: testServer({ name: 'c', nofailover: true }), position: undefined },
    ]);
    assert.deepEqual(
      candidates.map((c) => [c.name, c.reachable, c.in_recovery, c.received_lsn_bytes, c.lag_mb, c.failover_priority, c.nofailover]),
      [
        ['a', true, true, 0x5000000n, 0, 1, false],
        ['b', true, true, 0x3000000n, 32, 2, false],
        ['c', false, false, null, null, 999, true],
      ],
    );
    assert.equal(candidates[0]?.failover_lag_limit, 10);
  });

  it('measures lag against the master when its position is known', () => {
    const [only] = buildCandidates([{ server: testServer({ name: 'a' }), position: position('0/1000000') }], 0x2000000n);
    assert.equal(only?.lag_mb, 16);
  });

  it('raises the estimate to the lag last measured on the master when that is larger', () => {
    const candidates = buildCandidates(
      [
        { server: testServer({ name: 'a' }), position: position('0/5000000') },
        { server: testServer({ name: 'b' }), position: position('0/4000000') },
      ],
      null,
      new Map([['a', 40], ['b', 1]]),
    );
    assert.deepEqual(candidates.map((c) => c.lag_mb), [40, 16]);
  });

  it('treats a FAIL position or an unparsable LSN as unknown', () => {
    const candidates = buildCandidates([
      { server: testServer({ name: 'a' }), position: { ...position('0/1'), result: 'FAIL' } },
      { server: testServer({ name: 'b' }), position: position('garbage') },
    ]);
    assert.deepEqual(candidates.map((c) => [c.reachable, c.received_lsn_bytes]), [[false, null], [true, null]]);
  });
});

describe('enforceMostAdvancedFirst', () => {
  it('puts the replica with more WAL first whatever the plugin preferred, keeping its order among equals', () => {
    const candidates = buildCandidates([
      { server: testServer({ name: 'low-priority-ahead' }), position: position('0/9000000') },
      { server: testServer({ name: 'preferred-behind' }), position: position('0/1000000') },
      { server: testServer({ name: 'equal-1' }), position: position('0/1000000') },
      { server: testServer({ name: 'unknown' }), position: position(null) },
    ]);
    const result = enforceMostAdvancedFirst(
      { ordered: ['unknown', 'preferred-behind', 'equal-1', 'low-priority-ahead'], excluded: [{ name: 'x', reason: 'nofailover' }] },
      candidates,
    );
    assert.deepEqual(result.ordered, ['low-priority-ahead', 'preferred-behind', 'equal-1', 'unknown']);
    assert.deepEqual(result.excluded, [{ name: 'x', reason: 'nofailover' }]);
  });
});
