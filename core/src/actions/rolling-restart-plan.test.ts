import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRollingRestart, replicaOrder, restartReasons } from './rolling-restart-plan.js';
import type { RestartFacts, RestartObservation } from './rolling-restart-plan.js';

const BIN = '/usr/lib/postgresql/15/bin';

function facts(name: string, over: Partial<RestartFacts> = {}): RestartFacts {
  return { name, pendingSettings: [], runningBinDir: BIN, configuredBinDir: BIN, nofailover: false, failoverPriority: 999, ...over };
}

function cluster(over: Partial<RestartObservation> = {}): RestartObservation {
  const replicas = over.replicas ?? [facts('pg2'), facts('pg3')];
  return { master: facts('pg1'), masterUp: true, replicas, streaming: new Set(replicas.map((r) => r.name)), masterCanRejoin: true, ...over };
}

describe('rolling restart: why a server needs a restart', () => {
  it('names the pending settings and a binary directory other than pg_bin', () => {
    assert.deepEqual(restartReasons(facts('a')), []);
    assert.deepEqual(restartReasons(facts('a', { pendingSettings: ['max_connections', 'shared_buffers'] })), ['settings pending a restart: max_connections, shared_buffers']);
    assert.deepEqual(restartReasons(facts('a', { configuredBinDir: '/opt/pg15.9/bin' })), [`runs binaries from ${BIN}, pg_bin is /opt/pg15.9/bin`]);
  });

  it('ignores trailing slashes, and an unknown side of the binary comparison', () => {
    assert.deepEqual(restartReasons(facts('a', { configuredBinDir: `${BIN}/` })), []);
    assert.deepEqual(restartReasons(facts('a', { configuredBinDir: undefined })), []);
    assert.deepEqual(restartReasons(facts('a', { runningBinDir: undefined })), []);
  });
});

describe('rolling restart: order of the replicas', () => {
  it('nofailover replicas first, then the least preferred targets, then by name', () => {
    const order = replicaOrder([
      facts('pg5', { failoverPriority: 1 }),
      facts('pg4', { failoverPriority: 10 }),
      facts('pg3', { nofailover: true }),
      facts('pg2', { failoverPriority: 10 }),
    ]).map((r) => r.name);
    assert.deepEqual(order, ['pg3', 'pg2', 'pg4', 'pg5']);
  });
});

describe('rolling restart: the plan', () => {
  it('refuses when the master does not answer, naming it', () => {
    const plan = planRollingRestart(cluster({ masterUp: false }), { pendingOnly: false, switchover: false });
    assert.deepEqual(plan, { start: false, reason: 'the master pg1 does not answer its poll' });
  });

  it('refuses when an enabled replica does not stream from the master, naming it', () => {
    const plan = planRollingRestart(cluster({ streaming: new Set(['pg2']) }), { pendingOnly: false, switchover: false });
    assert.equal(plan.start, false);
    assert.match(plan.start ? '' : plan.reason, /streams from pg1: pg3 does not$/);
    const both = planRollingRestart(cluster({ streaming: new Set() }), { pendingOnly: false, switchover: false });
    assert.match(both.start ? '' : both.reason, /pg2, pg3 do not$/);
  });

  it('restarts every replica, then the master in place, when not pending_only', () => {
    const plan = planRollingRestart(cluster(), { pendingOnly: false, switchover: false });
    assert.ok(plan.start);
    assert.deepEqual(plan.replicas.map((r) => r.server), ['pg2', 'pg3']);
    assert.deepEqual(plan.skipped, []);
    assert.deepEqual(plan.master, { action: 'restart', server: 'pg1', reasons: ['restart requested'] });
  });

  it('pending_only skips and lists the servers that need nothing, the master too', () => {
    const observation = cluster({ replicas: [facts('pg2'), facts('pg3', { pendingSettings: ['max_connections'] })] });
    const plan = planRollingRestart(observation, { pendingOnly: true, switchover: true });
    assert.ok(plan.start);
    assert.deepEqual(plan.replicas, [{ server: 'pg3', reasons: ['settings pending a restart: max_connections'] }]);
    assert.deepEqual(plan.skipped.map((s) => s.server), ['pg2']);
    assert.equal(plan.master.action, 'skip');
  });

  it('pending_only restarts servers running other binaries than pg_bin (minor-version upgrade)', () => {
    const moved = { configuredBinDir: '/opt/pg/15/bin' };
    const observation = cluster({ master: facts('pg1', moved), replicas: [facts('pg2', moved), facts('pg3', moved)] });
    const plan = planRollingRestart(observation, { pendingOnly: true, switchover: false });
    assert.ok(plan.start);
    assert.deepEqual(plan.replicas.map((r) => r.server), ['pg2', 'pg3']);
    assert.equal(plan.master.action, 'restart');
  });

  it('switchover: the master phase is a switchover when a replica may be promoted and the master can rejoin', () => {
    const observation = cluster({ master: facts('pg1', { pendingSettings: ['shared_buffers'] }) });
    const plan = planRollingRestart(observation, { pendingOnly: true, switchover: true });
    assert.ok(plan.start);
    assert.deepEqual(plan.master, { action: 'switchover', server: 'pg1', reasons: ['settings pending a restart: shared_buffers'] });
  });

  it('switchover is refused up front when no replica may be promoted, or the master cannot rejoin', () => {
    const none = planRollingRestart(cluster({ replicas: [facts('pg2', { nofailover: true })] }), { pendingOnly: false, switchover: true });
    assert.equal(none.start, false);
    assert.match(none.start ? '' : none.reason, /no enabled replica may be promoted/);
    const noClone = planRollingRestart(cluster({ masterCanRejoin: false }), { pendingOnly: false, switchover: true });
    assert.equal(noClone.start, false);
    assert.match(noClone.start ? '' : noClone.reason, /pg1 has no clone_method/);
    const inPlace = planRollingRestart(cluster({ masterCanRejoin: false }), { pendingOnly: false, switchover: false });
    assert.equal(inPlace.start, true, 'a restart in place needs no clone plugin');
  });
});
