// PostgreSQL 15 in containers (Debian bookworm image): HandyRep on a cluster
// whose hosts are containers sees every server healthy, switches over with no
// lost commit and rejoins the old master. The local suites cover 15 in depth;
// this checks the image and the docker backend with HandyRep on top. Skipped
// without a Docker engine (failed instead under HANDYREP_REQUIRE_DOCKER).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertCommitsKept, assertNoSplitBrain, openScenario, report, statusOf } from '../scenarios/scenario-support.js';
import type { Scenario } from '../scenarios/scenario-support.js';
import { containerSkipReason, onContainers, since } from './container-support.js';

const skip = await containerSkipReason();

describe('PostgreSQL 15 in containers: smoke', { skip, timeout: 300_000 }, () => {
  let scenario: Scenario | undefined;
  after(async () => {
    await scenario?.close();
  });

  it('sees a healthy cluster, switches over without losing a commit, rejoins the old master', async () => {
    const started = Date.now();
    scenario = await openScenario({ cluster: onContainers(15), overrides: { server_defaults: { clone_method: 'clone_basebackup' } } });
    const { cluster, hr } = scenario;
    report('pg15 smoke: cluster and HandyRep up', { ms: since(started) });
    assert.match(String((await cluster.query('pg1', 'SHOW server_version'))[0]?.['server_version']), /^15\./);
    assert.equal((await hr.verifyAll()).result, 'SUCCESS');
    const status = await statusOf(hr);
    for (const name of ['pg1', 'pg2', 'pg3']) assert.equal(status.servers[name]?.status, 'healthy', `${name}: ${status.servers[name]?.status_message}`);

    await scenario.writer?.waitForAcks(30);
    const switchAt = Date.now();
    const result = (await hr.manualFailover('pg2', true)) as { result: string; details: string };
    report('pg15 smoke switchover', { switchover_ms: since(switchAt) });
    assert.equal(result.result, 'SUCCESS', result.details);
    await cluster.waitStreaming(['pg3'], 'pg2');
    const commits = await assertCommitsKept(scenario, 'pg2');
    assert.equal(commits.missing, 0);
    report('pg15 smoke commits', commits);
    const rejoined = (await hr.rejoin('pg1')) as { result: string; details: string; method?: string };
    assert.equal(rejoined.result, 'SUCCESS', rejoined.details);
    assert.equal(rejoined.method, 'rewind');
    await cluster.waitStreaming(['pg1', 'pg3'], 'pg2');
    await assertNoSplitBrain(scenario);
    report('pg15 smoke total', { ms: since(started) });
  });
});
