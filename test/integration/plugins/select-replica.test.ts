// select_replica_furthest_ahead and select_replica_priority on WAL positions
// read from one real harness cluster (master pg1, replicas pg2 and pg3) by
// replication_mb_lag. pg3 is held back by emptying its primary_conninfo, so it
// has received less WAL than pg2 while being the operator's preferred replica
// (failover_priority 10 against 20, failover_lag_limit 1 MB).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import { parseLsn } from '@handyrep/plugin-sdk';
import type { ReplicaCandidate, ReplicaPosition, ReplicaSelectionPlugin, ReplicationStatusPlugin, ServerDefinition } from '@handyrep/plugin-sdk';
import { createCluster, waitFor, type Cluster, type ConfOverrides } from '../../harness/index.js';

const MB = 1024 * 1024;
const SERVERS = ['pg1', 'pg2', 'pg3'];

let cluster: Cluster;
const opened: HandyRep[] = [];
let status: ReplicationStatusPlugin;
let furthest: ReplicaSelectionPlugin;
let priority: ReplicaSelectionPlugin;
let definitions: Record<string, ServerDefinition>;

/** Opens HandyRep on a config of its own (own server file and log). */
async function openHandyRep(name: string, failover: Record<string, string | null>): Promise<HandyRep> {
  const overrides: ConfOverrides = {
    handyrep: { server_file: join(cluster.baseDir, `${name}.save`), log_file: join(cluster.baseDir, `${name}.log`) },
    failover: { poll_method: null, ...failover },
    server_defaults: { restart_method: null, promotion_method: null, clone_method: null },
    'servers.pg2': { failover_priority: 20 },
    'servers.pg3': { failover_priority: 10, failover_lag_limit: 1 },
  };
  const path = join(cluster.baseDir, `${name}.conf`);
  writeFileSync(path, cluster.handyrepConf(overrides), { mode: 0o600 });
  const hr = await HandyRep.open(path);
  opened.push(hr);
  return hr;
}

/** What the core would know of each server: its definition and the position it reported. */
async function candidates(): Promise<ReplicaCandidate[]> {
  const positions = new Map<string, ReplicaPosition>();
  for (const name of SERVERS) positions.set(name, await status.position(name));
  const received = (name: string): bigint | null => parseLsn(positions.get(name)?.received_lsn);
  const ahead = SERVERS.map(received).reduce<bigint>((max, lsn) => (lsn !== null && lsn > max ? lsn : max), 0n);
  return SERVERS.map((name) => {
    const definition = definitions[name]!;
    const position = positions.get(name)!;
    const lsn = received(name);
    return {
      name,
      status: definition.status,
      reachable: position.result === 'SUCCESS',
      in_recovery: position.in_recovery,
      received_lsn_bytes: lsn,
      // Behind the most advanced server (the master while it answers).
      lag_mb: lsn === null ? null : Number(ahead - lsn) / MB,
      failover_priority: Number(definition['failover_priority']),
      nofailover: definition['nofailover'] === true,
      failover_lag_limit: Number(definition['failover_lag_limit']),
    };
  });
}

const lagReason = /^lag \d+(\.\d+)? MB exceeds failover_lag_limit 1 MB$/;

before(async () => {
  cluster = await createCluster({ replicas: 2, label: 'select' });
  const main = await openHandyRep('furthest', { replication_status_method: 'replication_mb_lag', selection_method: 'select_replica_furthest_ahead' });
  const other = await openHandyRep('priority', { replication_status_method: null, selection_method: 'select_replica_priority' });
  const statusPlugin = main.pluginInstance('replication_status', 'replication_mb_lag');
  const furthestPlugin = main.pluginInstance('replica_selection', 'select_replica_furthest_ahead');
  const priorityPlugin = other.pluginInstance('replica_selection', 'select_replica_priority');
  assert.ok(statusPlugin && furthestPlugin && priorityPlugin, 'all three plugins are loaded');
  [status, furthest, priority] = [statusPlugin, furthestPlugin, priorityPlugin];
  const info = await main.getServerInfo();
  assert.ok(!('result' in info), 'server definitions');
  definitions = info as Record<string, ServerDefinition>;
});

after(async () => {
  for (const hr of opened) await hr.close();
  await cluster?.teardown();
});

describe('replica selection on real WAL positions', () => {
  it('with pg3 held back, furthest-ahead puts pg2 first and priority puts pg3 first', async (t) => {
    await cluster.query('pg3', "ALTER SYSTEM SET primary_conninfo = ''");
    await cluster.query('pg3', 'SELECT pg_reload_conf()');
    await waitFor('pg3 WAL receiver gone', async () => (await status.position('pg3')).receiver_status === null);
    await cluster.faults.generateWal('pg1', 3);
    await cluster.waitCaughtUp(['pg2']);

    const list = await candidates();
    const [pg1, pg2, pg3] = list;
    assert.equal(pg1?.in_recovery, false);
    assert.ok(pg2?.received_lsn_bytes && pg3?.received_lsn_bytes, 'both replicas report a received position');
    const gap = pg2.received_lsn_bytes - pg3.received_lsn_bytes;
    assert.ok(gap >= 2n * BigInt(MB), `pg2 received ${gap} bytes more than pg3`);
    t.diagnostic(`pg2 ahead of pg3 by ${gap} bytes; pg3 lag_mb ${pg3.lag_mb?.toFixed(3)}`);

    const master = { name: 'pg1', reason: 'not in recovery (not a replica)' };
    const byPosition = furthest.select(list);
    assert.deepEqual(byPosition.ordered, ['pg2']);
    assert.deepEqual(byPosition.excluded[0], master);
    assert.equal(byPosition.excluded[1]?.name, 'pg3');
    assert.match(byPosition.excluded[1]?.reason ?? '', lagReason);

    assert.deepEqual(furthest.select(list, { ignoreLagLimit: true }), { ordered: ['pg2', 'pg3'], excluded: [master] });
    assert.deepEqual(priority.select(list, { ignoreLagLimit: true }), { ordered: ['pg3', 'pg2'], excluded: [master] });
    const byPriority = priority.select(list);
    assert.deepEqual(byPriority.ordered, ['pg2']);
    assert.match(byPriority.excluded[1]?.reason ?? '', lagReason);
  });

  it('once pg3 has caught up, equally advanced replicas are ordered by failover_priority', async () => {
    cluster.setPrimaryConninfo(cluster.host('pg3'), cluster.master);
    await cluster.query('pg3', 'SELECT pg_reload_conf()');
    await cluster.waitCaughtUp(['pg2', 'pg3']);
    // Background WAL (e.g. a checkpoint) may reach one replica a moment before the other: read until all agree.
    const list = await waitFor('pg2 and pg3 at the master\'s position', async () => {
      const read = await candidates();
      return read.every((c) => c.lag_mb === 0) ? read : null;
    });
    const master = { name: 'pg1', reason: 'not in recovery (not a replica)' };
    assert.deepEqual(furthest.select(list), { ordered: ['pg3', 'pg2'], excluded: [master] });
    assert.deepEqual(priority.select(list), { ordered: ['pg3', 'pg2'], excluded: [master] });
  });
});
