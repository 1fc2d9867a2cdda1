// The promotion plugins against one real harness cluster (master + 2
// replicas), through HandyRep.open with the real SSH shell and SQL client:
// promote_pg_ctl turns pg2 into a writable master, promote_sql turns pg3 into
// one (pg3 still follows pg1, so each plugin gets a real replica), and both
// leave a master alone. Subtests run in order and share the cluster.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { PromotionPlugin, ReturnDictionary } from '@handyrep/plugin-sdk';
import { createCluster, type Cluster } from '../../harness/index.js';

let cluster: Cluster;
let hr: HandyRep | undefined;

type Promoted = ReturnDictionary<{ promote_sent?: boolean | null; already_master?: boolean; duration_ms?: number }>;

function promoter(name: 'promote_pg_ctl' | 'promote_sql'): PromotionPlugin {
  const instance = hr?.pluginInstance('promotion', name);
  assert.ok(instance, `${name} is loaded`);
  return instance;
}

async function timed(what: string, work: () => Promise<Promoted>): Promise<Promoted> {
  const started = performance.now();
  const result = await work();
  console.log(`# ${what}: ${result.result} in ${Math.round(performance.now() - started)} ms (${result.details})`);
  return result;
}

/** Proves `host` accepts writes: a temp table and a row in a real table. */
async function assertWritable(host: string): Promise<void> {
  await cluster.query(host, 'CREATE TEMP TABLE handyrep_promote_check AS SELECT 1 AS x', [], { timeoutMs: 3000 });
  await cluster.query(host, 'INSERT INTO harness_probe (host) VALUES ($1)', [host], { timeoutMs: 3000 });
  const rows = await cluster.query<{ n: string }>(host, 'SELECT count(*)::text AS n FROM harness_probe WHERE host = $1', [host], { timeoutMs: 3000 });
  assert.equal(rows[0]?.n, '1');
}

async function assertReadOnly(host: string): Promise<void> {
  await assert.rejects(cluster.query(host, 'CREATE TEMP TABLE handyrep_promote_check AS SELECT 1 AS x', [], { timeoutMs: 3000 }), /read-only transaction/);
}

describe('promotion plugins on a real cluster', { timeout: 120_000 }, () => {
  before(async () => {
    const started = Date.now();
    cluster = await createCluster({ replicas: 2, label: 'promote' });
    console.log(`# cluster up in ${Date.now() - started} ms at ${cluster.baseDir}`);
    const path = cluster.writeConfig(join(cluster.baseDir, 'promote.conf'), {
      failover: { poll_method: null, replication_status_method: null, selection_method: null },
      server_defaults: { clone_method: null, promotion_method: 'promote_pg_ctl' },
      'servers.pg3': { promotion_method: 'promote_sql' },
      // Nothing listens on this port: promote_sql cannot ask it whether it is in recovery.
      'servers.ghost': { hostname: cluster.host('pg2').address, role: 'spare', port: 5999, promotion_method: 'promote_sql' },
      'plugins.promote_pg_ctl': { wait_seconds: 30, confirm_seconds: 10 },
      'plugins.promote_sql': { wait_seconds: 30, confirm_seconds: 10, command_timeout_seconds: 3 },
    });
    hr = await HandyRep.open(path);
  });

  after(async () => {
    await hr?.close().catch(() => undefined);
    await cluster?.teardown();
  });

  it('both plugins leave the master alone: SUCCESS already_master, nothing sent', async () => {
    for (const name of ['promote_pg_ctl', 'promote_sql'] as const) {
      const result = await timed(`${name} on the master`, () => promoter(name).promote('pg1'));
      assert.equal(result.result, 'SUCCESS', result.details);
      assert.equal(result.already_master, true);
      assert.equal(result.promote_sent, false);
    }
    assert.deepEqual(await cluster.findMasters(), ['pg1']);
  });

  it('promote_pg_ctl turns replica pg2 into a writable master', async () => {
    await assertReadOnly('pg2');
    const result = await timed('promote_pg_ctl pg2', () => promoter('promote_pg_ctl').promote('pg2'));
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.promote_sent, true);
    assert.equal(result.already_master, false);
    assert.equal(await cluster.inRecovery('pg2'), false);
    await assertWritable('pg2');
    assert.equal(await cluster.inRecovery('pg3'), true, 'the other replica was not touched');
  });

  it('promote_sql turns replica pg3 into a writable master, without SSH', async () => {
    await assertReadOnly('pg3');
    await cluster.faults.sshDown('pg3');
    try {
      const result = await timed('promote_sql pg3 (its sshd down)', () => promoter('promote_sql').promote('pg3'));
      assert.equal(result.result, 'SUCCESS', result.details);
      assert.equal(result.promote_sent, true);
    } finally {
      await cluster.faults.sshUp('pg3');
    }
    assert.equal(await cluster.inRecovery('pg3'), false);
    await assertWritable('pg3');
  });

  it('promoting an already promoted server again is SUCCESS with nothing sent', async () => {
    const again = await promoter('promote_pg_ctl').promote('pg2');
    assert.equal(again.result, 'SUCCESS', again.details);
    assert.equal((again as Promoted).already_master, true);
  });

  it('a server that cannot be asked over SQL is not promoted: FAIL, nothing sent', async () => {
    const result = await timed('promote_sql on an unreachable port', () => promoter('promote_sql').promote('ghost'));
    assert.equal(result.result, 'FAIL');
    assert.equal(result.promote_sent, false);
    assert.match(result.details, /nothing done/);
  });
});
