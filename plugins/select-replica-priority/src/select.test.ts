import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaCandidate, ReplicaSelection, SelectionOptions } from '@handyrep/plugin-sdk';
import { testCandidate as candidate } from '@handyrep/plugin-sdk/testing';
import { selectByPriority } from './select.js';

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
    candidates: [candidate('a', { lag_mb: 1200.5 })],
    expected: { ordered: [], excluded: [{ name: 'a', reason: 'lag 1200.5 MB exceeds failover_lag_limit 1000 MB' }] },
  },
  { title: 'lag exactly at the limit is allowed', candidates: [candidate('a', { lag_mb: 1000 })], expected: { ordered: ['a'], excluded: [] } },
  { title: 'unknown lag is allowed', candidates: [candidate('a', { lag_mb: null })], expected: { ordered: ['a'], excluded: [] } },
  { title: 'a per-server limit of 0 excludes any lag', candidates: [candidate('a', { lag_mb: 0.001, failover_lag_limit: 0 })], expected: { ordered: [], excluded: [{ name: 'a', reason: 'lag 0.001 MB exceeds failover_lag_limit 0 MB' }] } },
  {
    title: 'lag past the limit with ignoreLagLimit',
    candidates: [candidate('a', { lag_mb: 5000 }), candidate('b')],
    options: { ignoreLagLimit: true },
    expected: { ordered: ['a', 'b'], excluded: [] },
  },
  {
    title: 'ignoreLagLimit does not override the other reasons',
    candidates: [candidate('a', { lag_mb: 5000, nofailover: true })],
    options: { ignoreLagLimit: true },
    expected: { ordered: [], excluded: [{ name: 'a', reason: 'nofailover is set' }] },
  },
  { title: 'unknown position does not matter to priority', candidates: [candidate('a', { received_lsn_bytes: null })], expected: { ordered: ['a'], excluded: [] } },
  {
    title: 'every reason at once',
    candidates: [candidate('a', { nofailover: true, reachable: false, in_recovery: false, status: 'down', lag_mb: 2000 })],
    expected: {
      ordered: [],
      excluded: [
        { name: 'a', reason: 'nofailover is set; did not answer the latest check; not in recovery (not a replica); status is down; lag 2000 MB exceeds failover_lag_limit 1000 MB' },
      ],
    },
  },
  { title: 'empty input', candidates: [], expected: { ordered: [], excluded: [] } },
  {
    title: 'all excluded, reported in input order',
    candidates: [candidate('c', { status: 'down' }), candidate('a', { nofailover: true }), candidate('b', { reachable: false })],
    expected: {
      ordered: [],
      excluded: [
        { name: 'c', reason: 'status is down' },
        { name: 'a', reason: 'nofailover is set' },
        { name: 'b', reason: 'did not answer the latest check' },
      ],
    },
  },
  {
    title: 'a name listed twice counts once',
    candidates: [candidate('a', { failover_priority: 5 }), candidate('a', { failover_priority: 1 })],
    expected: { ordered: ['a'], excluded: [{ name: 'a', reason: 'listed more than once (the first entry counts)' }] },
  },
];

const orderings: Case[] = [
  {
    title: 'healthy before lagged before warning before unknown',
    candidates: [candidate('w', { status: 'warning' }), candidate('u', { status: 'unknown' }), candidate('l', { status: 'lagged' }), candidate('h')],
    expected: { ordered: ['h', 'l', 'w', 'u'], excluded: [] },
  },
  {
    title: 'status beats failover_priority',
    candidates: [candidate('lagged1', { status: 'lagged', failover_priority: 1 }), candidate('healthy900', { failover_priority: 900 })],
    expected: { ordered: ['healthy900', 'lagged1'], excluded: [] },
  },
  {
    title: 'same status: lower failover_priority first',
    candidates: [candidate('a', { failover_priority: 30 }), candidate('b', { failover_priority: 10 }), candidate('c', { failover_priority: 20 })],
    expected: { ordered: ['b', 'c', 'a'], excluded: [] },
  },
  {
    title: 'full tie: by name, not by input order',
    candidates: [candidate('db3'), candidate('db10'), candidate('db2')],
    expected: { ordered: ['db10', 'db2', 'db3'], excluded: [] },
  },
  {
    title: 'WAL position does not reorder (priority plugin)',
    candidates: [candidate('ahead', { received_lsn_bytes: 0x9000000n, failover_priority: 2 }), candidate('behind', { received_lsn_bytes: 0x1000000n, failover_priority: 1 })],
    expected: { ordered: ['behind', 'ahead'], excluded: [] },
  },
  {
    title: 'eligible and excluded together',
    candidates: [candidate('a', { failover_priority: 2 }), candidate('b', { nofailover: true, failover_priority: 0 }), candidate('c', { failover_priority: 1 })],
    expected: { ordered: ['c', 'a'], excluded: [{ name: 'b', reason: 'nofailover is set' }] },
  },
];

describe('select_replica_priority', () => {
  for (const group of [exclusions, orderings]) {
    for (const { title, candidates, options, expected } of group) {
      it(title, () => {
        assert.deepEqual(selectByPriority(candidates, options), expected);
      });
    }
  }

  it('is pure: frozen input, untouched, same answer every time', () => {
    const input = Object.freeze([candidate('b', { failover_priority: 2 }), candidate('a', { failover_priority: 3 })].map((c) => Object.freeze(c)));
    const first = selectByPriority(input);
    assert.deepEqual(selectByPriority(input), first);
    assert.deepEqual(input.map((c) => c.name), ['b', 'a']);
    assert.deepEqual(first.ordered, ['b', 'a']);
  });
});
