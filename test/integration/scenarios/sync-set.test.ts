// Issue 13: the synchronous set follows the cluster. A replica that dies
// while writes run leaves S (quorum: writes resume one check later; strict:
// writes wait, nothing is lost) and joins again once it streams; a planned
// switchover, a clone and a rejoin keep S made of what streams from the master.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { serverSection } from '../../harness/index.js';
import { openScenario, report, standbyNames, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';


async function waitNames(scenario: Scenario, host: string, expected: string, timeoutMs = 30_000): Promise<void> {
  const ok = await waitFor(async () => (await standbyNames(scenario, host)) === expected, timeoutMs, 100);
  assert.ok(ok, `${host}: synchronous_standby_names = '${await standbyNames(scenario, host)}', expected '${expected}'`);
}

describe('issue 13: the synchronous set follows the cluster', { timeout: 900_000 }, () => {
  const open: Scenario[] = [];
  after(async () => {
    for (const scenario of open) await scenario.close();
  });

  it('quorum: a replica that dies while writes run leaves S and writes resume; it joins again once it streams', async () => {
    const scenario = await openScenario({ overrides: { failover: { synchronous_mode: 'quorum', synchronous_count: 2 } } });
    open.push(scenario);
    const { cluster, hr } = scenario;
    hr.startMonitor();
    await waitNames(scenario, 'pg1', 'ANY 2 ("pg2", "pg3")');
    const writer = scenario.writer;
    assert.ok(writer);
    await writer.waitForAcks(20);
    const killedAt = Date.now();
    await cluster.faults.kill('pg3');
    await waitNames(scenario, 'pg1', 'ANY 1 ("pg2")', 20_000);
    const shrunkAt = Date.now();
    assert.ok(await waitFor(() => writer.acked.some((ack) => ack.sent > shrunkAt), 15_000, 20), 'writes resume after S shrank');
    const resumed = writer.acked.find((ack) => ack.t > killedAt + 100);
    report('issue 13 replica dies (quorum, k 2 → 1)', { kill_to_shrink_ms: shrunkAt - killedAt, kill_to_first_ack_ms: resumed ? resumed.t - killedAt : 'n/a' });

    await cluster.faults.start('pg3');
    await waitNames(scenario, 'pg1', 'ANY 2 ("pg2", "pg3")', 30_000);
    await hr.stopMonitor();
    await writer.stop();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const onReplica = await cluster.checkCommits(writer, 'pg2');
    report('issue 13 replica dies commits', { acked: writer.acked.length, missing_on_pg2: onReplica.missing.length });
    assert.deepEqual(onReplica.missing.map((ack) => ack.id), [], 'every acknowledged commit is on the remaining member');
  });

  it('quorum_strict: S does not shrink below k, writes wait, and nothing is lost', async () => {
    const scenario = await openScenario({ overrides: { failover: { synchronous_mode: 'quorum_strict', synchronous_count: 2 } } });
    open.push(scenario);
    const { cluster, hr } = scenario;
    hr.startMonitor();
    await waitNames(scenario, 'pg1', 'ANY 2 ("pg2", "pg3")');
    const writer = scenario.writer;
    assert.ok(writer);
    await writer.waitForAcks(20);
    const killedAt = Date.now();
    await cluster.faults.kill('pg3');
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const during = writer.acked.filter((ack) => ack.sent > killedAt + 500);
    assert.deepEqual(during.map((ack) => ack.id), [], 'no write is acknowledged while a member of S = 2, k = 2 is down');
    assert.equal(await standbyNames(scenario, 'pg1'), 'ANY 2 ("pg2", "pg3")', 'the set did not shrink');
    const restartedAt = Date.now();
    await cluster.faults.start('pg3');
    assert.ok(await waitFor(() => writer.acked.some((ack) => ack.sent > restartedAt), 30_000, 50), 'writes resume once pg3 streams again');
    await hr.stopMonitor();
    await writer.stop();
    const onMaster = await cluster.checkCommits(writer, 'pg1');
    report('issue 13 replica dies (quorum_strict)', { acked: writer.acked.length, missing: onMaster.missing.length });
    assert.deepEqual(onMaster.missing.map((ack) => ack.id), []);
  });

  it('a planned switchover, a clone and a rejoin keep S made of what streams from the master', async () => {
    const scenario = await openScenario({
      writer: false,
      cluster: { spares: 1 },
      overrides: { failover: { synchronous_mode: 'quorum' }, server_defaults: { clone_method: 'clone_basebackup' } },
    });
    open.push(scenario);
    const { cluster, hr } = scenario;
    hr.startMonitor();
    await waitNames(scenario, 'pg1', 'ANY 1 ("pg2", "pg3")');
    await cluster.waitCaughtUp();
    const switched = await waitFor(async () => {
      const result = await hr.manualFailover('pg2', true);
      if (result.result !== 'SUCCESS') console.log(`# switchover: ${result.details}`);
      return result.result === 'SUCCESS';
    }, 20_000, 500);
    assert.ok(switched, 'the switchover ran');
    await waitNames(scenario, 'pg2', 'ANY 1 ("pg3")');

    const added = await hr.addServer('pg4', serverSection(cluster, 'pg4', 'replica'));
    assert.equal(added.result, 'SUCCESS', added.details);
    const cloned = await hr.clone('pg4');
    assert.equal(cloned.result, 'SUCCESS', cloned.details);
    assert.equal((await hr.enable('pg4')).result, 'SUCCESS');
    await waitNames(scenario, 'pg2', 'ANY 1 ("pg3", "pg4")');

    const rejoined = await hr.rejoin('pg1');
    assert.equal(rejoined.result, 'SUCCESS', rejoined.details);
    await waitNames(scenario, 'pg2', 'ANY 1 ("pg1", "pg3", "pg4")');
    await hr.stopMonitor();
    const saved = JSON.parse(readFileSync(join(cluster.baseDir, 'servers.save'), 'utf8')) as { extra?: { synchronous_standbys?: unknown } };
    assert.deepEqual(saved.extra?.synchronous_standbys, { members: ['pg1', 'pg3', 'pg4'], k: 1 }, 'the recorded set matches the applied one');
    const status = (await hr.getStatus()) as { cluster: { synchronous_standbys?: string } };
    assert.equal(status.cluster.synchronous_standbys, 'ANY 1 (pg1, pg3, pg4)', 'get_status shows the recorded set');
  });
});
