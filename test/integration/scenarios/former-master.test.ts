// SCENARIOS.md 18 (issue 13): the master is partitioned from everyone but
// keeps running, with a client on its side (its Unix socket) that goes on
// writing. With synchronous_mode = quorum HandyRep detaches the replicas and
// promotes one: that client gets no acknowledged commit after the partition,
// and every commit it did get acknowledged is on the new master. When the
// partition heals the old master is fenced at once, and rejoin (pg_rewind)
// brings it back as a replica, discarding what it committed locally alone.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { Cluster } from '../../harness/index.js';
import { assertNoSplitBrain, openScenario, report, standbyNames, statusOf, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

interface SideAck {
  id: number;
  t: number;
}

/** A client on the master's side of the partition: its Unix socket. Sequential inserts; one not answered within 2 s is abandoned (never cancelled), so it counts as not acknowledged. */
function sideWriter(cluster: Cluster, host: string): { acked: SideAck[]; stop: () => Promise<void> } {
  const h = cluster.host(host);
  const target = cluster.target(host);
  const acked: SideAck[] = [];
  let stopping = false;
  const loop = (async () => {
    let id = 0;
    while (!stopping) {
      const client = new pg.Client({ host: h.socketDir, port: h.pgPort, user: target.user, password: target.password, database: target.database });
      client.on('error', () => undefined);
      try {
        await client.connect();
        while (!stopping) {
          id += 1;
          const current = id;
          const answered = await Promise.race([
            client.query('INSERT INTO side_writes (id) VALUES ($1)', [current]).then(() => true),
            new Promise<false>((resolve) => setTimeout(() => resolve(false), 2000)),
          ]);
          if (!answered) break;
          acked.push({ id: current, t: Date.now() });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } catch {
        // refused or reset: try again
      }
      const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
      stream?.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    acked,
    async stop() {
      stopping = true;
      await loop;
    },
  };
}

describe('scenario 18: a partitioned master with a writing client, healed after the failover', { timeout: 600_000 }, () => {
  let scenario: Scenario | undefined;
  after(async () => {
    await scenario?.close();
  });

  it('gives its client no acknowledged commit after the partition, is fenced when it comes back, and rejoins by pg_rewind', async () => {
    scenario = await openScenario({ writer: false, overrides: { failover: { synchronous_mode: 'quorum' }, server_defaults: { clone_method: 'clone_basebackup' } } });
    const { cluster, hr } = scenario;
    await cluster.query('pg1', 'CREATE TABLE side_writes (id int PRIMARY KEY)');
    const monitor = hr.startMonitor();
    const failovers: { result: string; details: string; fenced_by?: string }[] = [];
    monitor.onCheck((result) => {
      if (result.failover) failovers.push(result.failover);
    });
    assert.ok(await waitFor(async () => (await standbyNames(scenario as Scenario, 'pg1')) === 'ANY 1 ("pg2", "pg3")', 30_000, 200), 'the master has its synchronous set');
    const side = sideWriter(cluster, 'pg1');
    assert.ok(await waitFor(() => side.acked.length >= 20, 15_000), 'the side client writes');

    const faultAt = Date.now();
    await cluster.faults.partition('pg1');
    let newMaster = '';
    assert.ok(await waitFor(async () => {
      newMaster = (await cluster.findMasters(500)).find((name) => name !== 'pg1') ?? '';
      return newMaster !== '';
    }, 30_000, 50), 'a replica became writable');
    report('scenario 18 (partitioned master, quorum)', { fault_to_writable_ms: Date.now() - faultAt });
    assert.ok(await waitFor(() => failovers.length > 0, 20_000), 'the failover finished');
    assert.equal(failovers[0]?.fenced_by, 'quorum', failovers[0]?.details);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await side.stop();

    const lateAcks = side.acked.filter((ack) => ack.t > faultAt + 100);
    report('scenario 18 side client', { acked: side.acked.length, acked_after_partition: lateAcks.length });
    assert.deepEqual(lateAcks.map((ack) => ack.id), [], 'no commit acknowledged to the partitioned side after the partition');
    const onNew = new Set((await cluster.query(newMaster, 'SELECT id FROM side_writes')).map((row) => Number(row['id'])));
    assert.deepEqual(side.acked.filter((ack) => !onNew.has(ack.id)).map((ack) => ack.id), [], 'every acknowledged commit is on the new master');
    await assertNoSplitBrain(scenario);

    const healedAt = Date.now();
    await cluster.faults.heal('pg1');
    assert.ok(await waitFor(async () => (await cluster.inRecovery('pg1', 500)) === null, 20_000, 100), 'the old master was fenced (stopped) once it answered');
    report('scenario 18 fence on return', { heal_to_stopped_ms: Date.now() - healedAt });
    // The status is set once the immediate stop has returned, a moment after the port closed.
    assert.ok(await waitFor(async () => /came back out of recovery/.test((await statusOf(hr)).servers['pg1']?.status_message ?? ''), 10_000, 100), ((await hr.readLog(40)) as string[]).join('\n'));
    assert.equal((await statusOf(hr)).servers['pg1']?.enabled, false);
    await hr.stopMonitor();

    const rejoined = await hr.rejoin('pg1');
    assert.equal(rejoined.result, 'SUCCESS', rejoined.details);
    assert.ok(await waitFor(async () => (await cluster.inRecovery('pg1', 1000)) === true, 30_000, 200), 'pg1 runs as a replica');
    assert.ok(await waitFor(async () => {
      const [a, b] = await Promise.all([cluster.query('pg1', 'SELECT count(*)::int AS n FROM side_writes'), cluster.query(newMaster, 'SELECT count(*)::int AS n FROM side_writes')]);
      return a[0]?.['n'] === b[0]?.['n'];
    }, 15_000, 200), 'pg1 holds exactly what the new master holds: its lone local commits were discarded');
    assert.equal(hr.getMasterName(), newMaster);
  });
});
