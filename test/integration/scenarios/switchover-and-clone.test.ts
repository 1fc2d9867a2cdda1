// SCENARIOS.md 11-13: a planned switchover with remaster loses no
// acknowledged commit and the old master rejoins as a replica; cloning (new
// replica, reclone, refusal over a running server, from another replica);
// two actions at once: the second is refused and nothing is half-done.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serverSection } from '../../harness/index.js';
import { assertCommitsKept, assertNoSplitBrain, openScenario, report } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

async function streamingFrom(scenario: Scenario, master: string): Promise<string[]> {
  const rows = await scenario.cluster.query(master, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1", [], { timeoutMs: 3000 });
  return rows.map((row) => String(row['application_name']));
}

async function waitStreaming(scenario: Scenario, master: string, replicas: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const streaming = await streamingFrom(scenario, master).catch((): string[] => []);
    if (replicas.every((replica) => streaming.includes(replica))) return;
    if (Date.now() > deadline) assert.fail(`${replicas.join(', ')} not streaming from ${master}: ${streaming.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('scenarios 11-13: switchover, rejoin, clone, one action at a time', () => {
  let scenario: Scenario;

  before(async () => {
    scenario = await openScenario({
      cluster: { spares: 1 },
      overrides: { server_defaults: { clone_method: 'clone_basebackup' } },
    });
  });

  after(async () => {
    await scenario?.close();
  });

  it('12: clones a new replica onto a spare, refuses a running target, reclones, clones from a replica', async () => {
    const { cluster, hr } = scenario;
    const spare = serverSection(cluster, 'pg4', 'replica');
    const added = await hr.addServer('pg4', spare);
    assert.equal(added.result, 'SUCCESS', added.details);
    assert.equal((added as { definition?: { enabled: boolean } }).definition?.enabled, false, 'new servers are disabled');
    const started = Date.now();
    const cloned = await hr.clone('pg4');
    report('scenario 12 clone', { clone_ms: Date.now() - started, bytes: String((cloned as { bytes_copied?: number }).bytes_copied) });
    assert.equal(cloned.result, 'SUCCESS', cloned.details);
    await waitStreaming(scenario, 'pg1', ['pg4']);
    assert.equal((await hr.enable('pg4')).result, 'SUCCESS');

    const refused = await hr.clone('pg2');
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, /running PostgreSQL; use reclone/);
    assert.equal(await cluster.inRecovery('pg2'), true, 'the running replica was left alone');
    const ontoMaster = await hr.clone('pg1', true);
    assert.equal(ontoMaster.result, 'FAIL');
    assert.match(ontoMaster.details, /master/);

    assert.equal((await hr.shutdown('pg3')).result, 'SUCCESS');
    const recloned = await hr.clone('pg3', true);
    assert.equal(recloned.result, 'SUCCESS', recloned.details);
    await waitStreaming(scenario, 'pg1', ['pg3']);

    const fromReplica = await hr.clone('pg4', true, 'pg2');
    assert.equal(fromReplica.result, 'SUCCESS', fromReplica.details);
    await waitStreaming(scenario, 'pg1', ['pg2', 'pg3', 'pg4']);
  });

  it('13: a manual failover while a clone runs is refused with a clear message; nothing is half-done', async () => {
    const { hr } = scenario;
    const clone = hr.clone('pg4', true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const failover = await hr.manualFailover('pg2');
    assert.equal(failover.result, 'FAIL');
    assert.match(failover.details, /clone pg4 is running/);
    const cloned = await clone;
    assert.equal(cloned.result, 'SUCCESS', cloned.details);
    assert.equal(hr.getMasterName(), 'pg1', 'nothing changed');
    await waitStreaming(scenario, 'pg1', ['pg2', 'pg3', 'pg4']);
  });

  it('11: a planned switchover with remaster loses no acknowledged commit; the old master rejoins as a replica', async () => {
    const { cluster, hr } = scenario;
    await scenario.writer?.waitForAcks(50);
    const started = Date.now();
    const result = await hr.manualFailover('pg2', true);
    report('scenario 11 switchover', { switchover_ms: Date.now() - started, writable_after_ms: String((result as { writable_after_ms?: number }).writable_after_ms) });
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(hr.getMasterName(), 'pg2');
    await waitStreaming(scenario, 'pg2', ['pg3', 'pg4']);
    const commits = await assertCommitsKept(scenario, 'pg2');
    assert.equal(commits.missing, 0, 'zero acknowledged commits lost');
    report('scenario 11 commits', commits);

    const rejoined = await hr.rejoin('pg1');
    assert.equal(rejoined.result, 'SUCCESS', rejoined.details);
    report('scenario 11 rejoin', { method: String((rejoined as { method?: string }).method) });
    await waitStreaming(scenario, 'pg2', ['pg1', 'pg3', 'pg4']);
    assert.equal(await cluster.inRecovery('pg1'), true);
    await assertNoSplitBrain(scenario);
  });
});
