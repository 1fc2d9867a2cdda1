import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaCandidate, ReplicaSelection, SelectionOptions } from '@handyrep/plugin-sdk';
import { testCandidate as candidate } from '@handyrep/plugin-sdk/testing';
import { parseLsn } from '@handyrep/plugin-sdk';
import { selectFurthestAhead } from './select.js';

interface Case {
  title: string;
  candidates: ReplicaCandidate[];
  options?: SelectionOptions;
  expected: ReplicaSelection;
}

const exclusions: Case[] = [
  { title: 'nofailover', candidates: [candidate('a', { nofailover: true })], expected: { ordered: [], excluded: [{ name: 'a', reason: 'nofailover is set' }] } },
  { title: 'not reachable', candidates: [candidate('a', { reachable: false })], expected: { ordered: [], excluded: [{ name: 'a', reason: 'did not answer the latest check' }] } },
  { title: 'not in recovery', candidates: [candidate('a', { in_recovery: false })], expected: { ordered: [], excluded: [{ name: 'a', reason: 'not in recovery (not a replica)' }] } },
  { title: 'status down', candidates: [candidate('a', { status: 'down' })], expected: { ordered: [], excluded: [{ name: 'a', reason: 'status is down' }] } },
  { title: 'status unavailable', candidates: [candidate('a', { status: 'unavailable' })], expected: { ordered: [], excluded: [{ name: 'a', reason: 'status is unavailable' }] } },
  {
    title: 'lag past failover_lag_limit',
    candidates: [candidate('a', { lag_mb: 1000.001 })],
    expected: { ordered: [], excluded: [{ name: 'a', reason: 'lag 1000.001 MB exceeds failover_lag_limit 1000 MB' }] },
  },
  { title: 'lag exactly at the limit is allowed', candidates: [candidate('a', { lag_mb: 1000 })], expected: { ordered: ['a'], excluded: [] } },
  { title: 'unknown lag is allowed', candidates: [candidate('a', { lag_mb: null })], expected: { ordered: ['a'], excluded: [] } },
  {
    title: 'unknown received position',
    candidates: [candidate('a', { received_lsn_bytes: null })],
    expected: { ordered: [], excluded: [{ name: 'a', reason: 'received WAL position is unknown' }] },
  },
  {
    title: 'lag past the limit with ignoreLagLimit',
    candidates: [candidate('a', { lag_mb: 5000, received_lsn_bytes: 1n }), candidate('b', { received_lsn_bytes: 2n })],
    options: { ignoreLagLimit: true },
    expected: { ordered: ['b', 'a'], excluded: [] },
  },
  {
    title: 'ignoreLagLimit does not override an unknown position',
    candidates: [candidate('a', { lag_mb: 5000, received_lsn_bytes: null })],
    options: { ignoreLagLimit: true },
    expected: { ordered: [], excluded: [{ name: 'a', reason: 'received WAL position is unknown' }] },
  },
  {
    title: 'every reason at once',
    candidates: [candidate('a', { nofailover: true, reachable: false, in_recovery: false, status: 'unavailable', lag_mb: 2000, received_lsn_bytes: null })],
    expected: {
      ordered: [],
      excluded: [
        {
          name: 'a',
          reason:
            'nofailover is set; did not answer the latest check; not in recovery (not a replica); status is unavailable; ' +
            'lag 2000 MB exceeds failover_lag_limit 1000 MB; received WAL position is unknown',
        },
      ],
    },
  },
  { title: 'empty input', candidates: [], expected: { ordered: [], excluded: [] } },
  {
    title: 'all excluded, reported in input order',
    candidates: [candidate('c', { received_lsn_bytes: null }), candidate('a', { lag_mb: 1e6 }), candidate('b', { in_recovery: false })],
    expected: {
      ordered: [],
      excluded: [
        { name: 'c', reason: 'received WAL position is unknown' },
        { name: 'a', reason: 'lag 1000000 MB exceeds failover_lag_limit 1000 MB' },
        { name: 'b', reason: 'not in recovery (not a replica)' },
      ],
    },
  },
  {
    title: 'a name listed twice counts once',
    candidates: [candidate('a', { received_lsn_bytes: 1n }), candidate('a', { received_lsn_bytes: 9n })],
    expected: { ordered: ['a'], excluded: [{ name: 'a', reason: 'listed more than once (the first entry counts)' }] },
  },
];

const orderings: Case[] = [
  {
    title: 'most WAL received first',
    candidates: [
      candidate('b', { received_lsn_bytes: parseLsn('0/3000148') }),
      candidate('a', { received_lsn_bytes: parseLsn('0/3000060') }),
      candidate('c', { received_lsn_bytes: parseLsn('0/5000000') }),
    ],
    expected: { ordered: ['c', 'b', 'a'], excluded: [] },
  },
  {
    title: 'position beats failover_priority and status',
    candidates: [
      candidate('preferred', { received_lsn_bytes: 100n, failover_priority: 1 }),
      candidate('ahead', { received_lsn_bytes: 101n, failover_priority: 900, status: 'warning' }),
    ],
    expected: { ordered: ['ahead', 'preferred'], excluded: [] },
  },
  {
    title: 'same position: lower failover_priority first',
    candidates: [candidate('a', { failover_priority: 30 }), candidate('b', { failover_priority: 10 }), candidate('c', { failover_priority: 20 })],
    expected: { ordered: ['b', 'c', 'a'], excluded: [] },
  },
  {
    title: 'full tie: by name, not by input order',
    candidates: [candidate('db3'), candidate('db10'), candidate('db2')],
    expected: { ordered: ['db10', 'db2', 'db3'], excluded: [] },
  },
  {
    title: 'positions past 2^53 bytes compare exactly',
    candidates: [
      candidate('low', { received_lsn_bytes: parseLsn('FFFFFFFF/FFFFFFFE') }),
      candidate('high', { received_lsn_bytes: parseLsn('FFFFFFFF/FFFFFFFF') }),
    ],
    expected: { ordered: ['high', 'low'], excluded: [] },
  },
  {
    title: 'eligible and excluded together',
    candidates: [candidate('a', { received_lsn_bytes: 5n }), candidate('b', { received_lsn_bytes: 50n, nofailover: true }), candidate('c', { received_lsn_bytes: 7n })],
    expected: { ordered: ['c', 'a'], excluded: [{ name: 'b', reason: 'nofailover is set' }] },
  },
];

describe('select_replica_furthest_ahead', () => {
  for (const group of [exclusions, orderings]) {
    for (const { title, candidates, options, expected } of group) {
      it(title, () => {
        assert.deepEqual(selectFurthestAhead(candidates, options), expected);
      });
    }
  }

  it('is pure: frozen input, untouched, same answer every time', () => {
    const input = Object.freeze([candidate('a', { received_lsn_bytes: 1n }), candidate('b', { received_lsn_bytes: 2n })].map((c) => Object.freeze(c)));
    const first = selectFurthestAhead(input);
    assert.deepEqual(selectFurthestAhead(input), first);
    assert.deepEqual(input.map((c) => c.name), ['a', 'b']);
    assert.deepEqual(first.ordered, ['b', 'a']);
  });
});
