// replication_mb_lag against one real harness cluster (master pg1, replicas
// pg2 and pg3) through HandyRep's real SQL client. Subtests share the cluster
// and run in order; the ones that cut or stop servers come last.
// wal_receiver_timeout is 6 s so an idle but healthy receiver hears from its
// master at least every 3 s and a cut-off one gives up within seconds.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import { parseLsn } from '@handyrep/plugin-sdk';
import type { ReplicaLag, ReplicaPosition, ReplicationStatusPlugin } from '@handyrep/plugin-sdk';
import { createCluster, waitFor, type Cluster } from '../../harness/index.js';

/** The keys replication_mb_lag adds to the SDK's dictionaries. */
type Lag = ReplicaLag & { state: string | null; error_code: string | null };
type Position = ReplicaPosition & { wal_receiver_timeout_ms: number | null; error_code: string | null };

const MB = 1024 * 1024;
const WAL_RECEIVER_TIMEOUT_MS = 6000;
/** A streaming receiver pings a silent master at half its time-out: a healthy one never hears nothing for much longer. */
const HEALTHY_AGE_BOUND_MS = WAL_RECEIVER_TIMEOUT_MS / 2 + 1000;

let cluster: Cluster;
let hr: HandyRep | undefined;
let plugin: ReplicationStatusPlugin;
const timings: Record<string, number[]> = { lag: [], position: [] };

async function timed<T>(kind: 'lag' | 'position', call: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await call();
  timings[kind]?.push(performance.now() - started);
  return result;
}

const lag = (master: string, replica: string): Promise<Lag> => timed('lag', () => plugin.lag(master, replica) as Promise<Lag>);
const position = (server: string): Promise<Position> => timed('position', () => plugin.position(server) as Promise<Position>);

before(async () => {
  cluster = await createCluster({ replicas: 2, label: 'mblag', pgSettings: { wal_receiver_timeout: `${WAL_RECEIVER_TIMEOUT_MS}ms` } });
  const file = cluster.writeConfig(join(cluster.baseDir, 'handyrep.conf'), {
    failover: { poll_method: null, selection_method: null },
    server_defaults: { restart_method: null, promotion_method: null, clone_method: null },
    'plugins.replication_mb_lag': { connect_timeout: 1, statement_timeout: 1 },
  });
  hr = await HandyRep.open(file);
  const instance = hr.pluginInstance('replication_status', 'replication_mb_lag');
  assert.ok(instance, 'replication_mb_lag is loaded');
  plugin = instance;
});

after(async () => {
  await hr?.close();
  await cluster?.teardown();
});

describe('replication_mb_lag on a real cluster', () => {
  it('reports caught-up replicas as connected with 0 lag', async () => {
    await cluster.waitCaughtUp();
    for (const replica of ['pg2', 'pg3']) {
      const result = await lag('pg1', replica);
      assert.equal(result.result, 'SUCCESS', result.details);
      assert.equal(result.connected, true);
      assert.equal(result.state, 'streaming');
      assert.equal(result.lag_bytes, 0, result.details);
      assert.equal(result.lag_mb, 0);
    }
  });

  it('reads positions and a streaming WAL receiver on each replica, and its own position on the master', async () => {
    await cluster.faults.generateWal('pg1', 0.1);
    await cluster.waitCaughtUp();
    const master = await position('pg1');
    assert.equal(master.result, 'SUCCESS', master.details);
    assert.equal(master.in_recovery, false);
    assert.ok(master.received_lsn !== null && master.received_lsn === master.replayed_lsn);
    assert.equal(master.receiver_status, null);
    for (const replica of ['pg2', 'pg3']) {
      const p = await position(replica);
      assert.equal(p.result, 'SUCCESS', p.details);
      assert.equal(p.in_recovery, true);
      const received = parseLsn(p.received_lsn);
      const replayed = parseLsn(p.replayed_lsn);
      assert.ok(received !== null && replayed !== null && received >= replayed, p.details);
      assert.ok(received <= (parseLsn(master.received_lsn) ?? 0n) + 1_000_000n, 'a replica is never far ahead of its master');
      assert.equal(p.receiver_status, 'streaming');
      assert.equal(p.sender_host, cluster.master.address);
      assert.equal(p.wal_receiver_timeout_ms, WAL_RECEIVER_TIMEOUT_MS);
      // Just after WAL was shipped, and at most half the receiver time-out on an idle master.
      assert.ok(p.last_msg_age_ms !== null && p.last_msg_age_ms >= 0 && p.last_msg_age_ms < HEALTHY_AGE_BOUND_MS, p.details);
    }
  });

  it('sees replay lag grow while replay is paused, in MB after 20 MB of WAL, and return to 0 after resume', async (t) => {
    await cluster.faults.pauseReplay('pg2');
    try {
      await cluster.faults.generateWal('pg1', 0.1);
      const small = await waitFor('lag > 0 on pg2', async () => {
        const r = await lag('pg1', 'pg2');
        return r.lag_bytes !== null && r.lag_bytes > 0 ? r : null;
      });
      const masterBefore = await position('pg1');
      await cluster.faults.generateWal('pg1', 20);
      const masterAfter = await position('pg1');
      const written = Number((parseLsn(masterAfter.received_lsn) ?? 0n) - (parseLsn(masterBefore.received_lsn) ?? 0n));
      assert.ok(written >= 18 * MB, `the master wrote ${written} bytes of WAL`);
      const big = await waitFor('lag of 20 MB on pg2', async () => {
        const r = await lag('pg1', 'pg2');
        return r.lag_bytes !== null && r.lag_bytes >= small.lag_bytes! + written ? r : null;
      });
      assert.equal(big.result, 'SUCCESS');
      assert.ok(big.lag_mb !== null && big.lag_mb >= 18, big.details);
      assert.equal(big.lag_mb, Math.round((big.lag_bytes! / MB) * 1000) / 1000);
      // The harness's own view of replay lag agrees (it reads the same view a moment later).
      const harnessLag = await cluster.replayLagBytes('pg2');
      assert.ok(harnessLag !== null && Math.abs(harnessLag - big.lag_bytes!) < MB, `plugin ${big.lag_bytes}, harness ${harnessLag}`);
      // The other replica keeps replaying.
      await cluster.waitCaughtUp(['pg3']);
      assert.equal((await lag('pg1', 'pg3')).lag_bytes, 0);
      // On the paused replica itself: everything received, not replayed.
      const p = await position('pg2');
      const gap = (parseLsn(p.received_lsn) ?? 0n) - (parseLsn(p.replayed_lsn) ?? 0n);
      assert.ok(gap >= BigInt(written), `received - replayed = ${gap}, wrote ${written}`);
      t.diagnostic(`lag while paused: ${small.lag_bytes} bytes after 0.1 MB, ${big.lag_mb} MB (${big.lag_bytes} bytes) after writing ${written} bytes`);
    } finally {
      await cluster.faults.resumeReplay('pg2');
    }
    const back = await waitFor(
      'lag back to 0 on pg2',
      async () => {
        const r = await lag('pg1', 'pg2');
        return r.lag_bytes === 0 ? r : null;
      },
      20_000,
      100,
    );
    assert.equal(back.lag_mb, 0);
  });

  it('second opinion: HandyRep cut off from the master gets FAIL (time-out) while a replica still streams from it', async () => {
    await cluster.faults.partitionFromHandyrep('pg1');
    try {
      const started = performance.now();
      const cut = await lag('pg1', 'pg2');
      const took = performance.now() - started;
      assert.equal(cut.result, 'FAIL');
      assert.equal(cut.error_code, 'HR_TIMEOUT', cut.details);
      assert.ok(took < 3500, `FAIL after ${Math.round(took)} ms`);
      const p = await position('pg2');
      assert.equal(p.receiver_status, 'streaming', p.details);
      assert.ok(p.last_msg_age_ms !== null && p.last_msg_age_ms < WAL_RECEIVER_TIMEOUT_MS, p.details);
    } finally {
      await cluster.faults.healFromHandyrep('pg1');
    }
  });

  it('a partitioned master: the replica stops hearing from it (age past half the receiver time-out, or no longer streaming)', async (t) => {
    await cluster.faults.generateWal('pg1', 0.01);
    const before = await position('pg2');
    assert.equal(before.receiver_status, 'streaming', before.details);
    assert.ok((before.last_msg_age_ms ?? Infinity) < HEALTHY_AGE_BOUND_MS, before.details);
    await cluster.faults.partition('pg1');
    try {
      const cut = await waitFor(
        'pg2 notices the master is silent',
        async () => {
          const p = await position('pg2');
          return p.receiver_status !== 'streaming' || (p.last_msg_age_ms ?? 0) > HEALTHY_AGE_BOUND_MS ? p : null;
        },
        WAL_RECEIVER_TIMEOUT_MS + 5000,
        250,
      );
      assert.equal(cut.result, 'SUCCESS');
      t.diagnostic(`before: ${before.details}; partitioned: ${cut.details}`);
    } finally {
      await cluster.faults.heal('pg1');
    }
    await cluster.waitStreaming(['pg2', 'pg3'], 'pg1', 30_000);
  });

  it('a stopped replica: position() FAILs at once, the master no longer lists it', async () => {
    await cluster.faults.stop('pg3');
    const started = performance.now();
    const p = await position('pg3');
    const took = performance.now() - started;
    assert.equal(p.result, 'FAIL');
    assert.equal(p.error_code, 'HR_SQL', p.details);
    assert.match(p.details, /cannot read the WAL position of pg3/);
    assert.ok(took < 1000, `FAIL after ${Math.round(took)} ms`);
    const gone = await waitFor('pg1 drops pg3', async () => {
      const r = await lag('pg1', 'pg3');
      return r.connected ? null : r;
    });
    assert.equal(gone.result, 'SUCCESS');
    assert.equal(gone.lag_bytes, null);
    assert.match(gone.details, /pg3 is not connected to pg1/);
  });

  it('a stopped master: the replica reports its WAL receiver no longer streaming', async (t) => {
    await cluster.faults.stop('pg1');
    const p = await waitFor(
      'pg2 WAL receiver leaves streaming',
      async () => {
        const r = await position('pg2');
        return r.result === 'SUCCESS' && r.receiver_status !== 'streaming' ? r : null;
      },
      10_000,
      100,
    );
    assert.equal(p.in_recovery, true);
    assert.notEqual(p.received_lsn, null);
    const l = await lag('pg1', 'pg2');
    assert.equal(l.result, 'FAIL');
    assert.equal(l.error_code, 'HR_SQL', l.details);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    t.diagnostic(`master stopped: ${p.details}`);
    t.diagnostic(
      `call durations (ms): lag median ${median(timings['lag'] ?? []).toFixed(1)} over ${timings['lag']?.length}, ` +
        `position median ${median(timings['position'] ?? []).toFixed(1)} over ${timings['position']?.length}`,
    );
  });
});
