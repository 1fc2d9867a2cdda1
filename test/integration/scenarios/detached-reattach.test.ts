// Issue 13 follow-up: HandyRep killed right after a quorum fence detached the
// members of the synchronous set, before any promotion; the master comes
// back healthy. The restarted HandyRep re-attaches the members: they stream
// from the master again and a synchronous commit on it completes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HandyRep } from '@handyrep/core';
import { assertNoSplitBrain, openScenario, report, standbyNames, startMonitorProcess, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

const promoteNever = fileURLToPath(new URL('./fixtures/promote-never.js', import.meta.url));

interface SavedExtra {
  failover_journal?: { stage?: string; detached?: string[] };
  detached_members?: string[];
}

function savedExtra(serverFile: string): SavedExtra {
  try {
    return (JSON.parse(readFileSync(serverFile, 'utf8')) as { extra?: SavedExtra }).extra ?? {};
  } catch {
    return {};
  }
}

describe('HandyRep killed right after a quorum fence detached the synchronous set', { timeout: 300_000 }, () => {
  let scenario: Scenario;

  before(async () => {
    scenario = await openScenario({
      writer: false,
      overrides: {
        failover: { synchronous_mode: 'quorum', promotion_timeout: 5 },
        // Promotes nobody: whenever the kill lands, nothing was promoted.
        server_defaults: { promotion_method: promoteNever },
      },
    });
    // The monitor that gets killed runs in another process; this one only observes until the restart.
    await scenario.hr.close();
  });

  after(async () => {
    await scenario?.close();
  });

  it('the restarted HandyRep re-attaches the detached members to the healthy master; they stream and a synchronous commit completes', async () => {
    const { cluster } = scenario;
    const serverFile = `${cluster.baseDir}/servers.save`;
    const monitor = await startMonitorProcess(scenario.configFile);
    let killedAt: SavedExtra['failover_journal'];
    try {
      assert.ok(await waitFor(async () => (await standbyNames(scenario, 'pg1')) === 'ANY 1 ("pg2", "pg3")', 30_000, 200), `the master's synchronous set: '${await standbyNames(scenario, 'pg1')}'`);
      await cluster.faults.partition('pg1');
      assert.ok(await waitFor(() => (savedExtra(serverFile).failover_journal?.detached?.length ?? 0) > 0, 60_000, 2), `the quorum fence detached members: ${monitor.output()}`);
      await monitor.kill();
      killedAt = savedExtra(serverFile).failover_journal;
    } finally {
      await monitor.kill();
    }
    report('detached members, killed at', { stage: killedAt?.stage ?? 'none', detached: killedAt?.detached?.join('+') ?? '' });

    await cluster.faults.heal('pg1');
    assert.equal(await cluster.inRecovery('pg1'), false, 'pg1 is still the master');
    const receivers = async (host: string): Promise<number> => Number((await cluster.query<{ n: number }>(host, 'SELECT count(*)::int AS n FROM pg_stat_wal_receiver', [], { timeoutMs: 2000 }))[0]?.n ?? -1);
    // Settled a little after the heal: a member that was not detached reconnects within wal_retrieve_retry_interval.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const detachedBefore = ['pg2', 'pg3'];
    for (const host of killedAt?.detached ?? []) assert.equal(await receivers(host), 0, `${host} was really detached`);
    for (const host of detachedBefore.filter((name) => !(killedAt?.detached ?? []).includes(name))) assert.equal(await receivers(host), 1, `${host} still streams`);

    const restartedAt = Date.now();
    scenario.hr = await HandyRep.open(scenario.configFile);
    const hr = scenario.hr;
    assert.deepEqual(savedExtra(serverFile).detached_members?.sort(), [...(killedAt?.detached ?? [])].sort(), 'the record outlives the closed journal');
    assert.equal(savedExtra(serverFile).failover_journal, undefined, 'the journal was closed: nothing was promoted');

    const checked = await hr.failoverCheck();
    assert.equal(checked.result, 'SUCCESS', checked.details);
    const streaming = async (host: string): Promise<boolean> => {
      const rows = await cluster.query<{ status: string }>(host, 'SELECT status FROM pg_stat_wal_receiver', [], { timeoutMs: 2000 }).catch(() => []);
      return rows[0]?.status === 'streaming';
    };
    assert.ok(await waitFor(async () => (await streaming('pg2')) && (await streaming('pg3')), 30_000, 200), 'pg2 and pg3 stream again');
    report('detached members re-attached', { restart_to_streaming_ms: Date.now() - restartedAt });
    assert.equal(savedExtra(serverFile).detached_members, undefined, 'the record is cleared');

    const commitStarted = Date.now();
    await cluster.query('pg1', 'CREATE TABLE IF NOT EXISTS detached_reattach (id int)', [], { timeoutMs: 20_000 });
    // synchronous_commit is on by default: the commit waits for ANY 1 of the re-attached members.
    await cluster.query('pg1', 'INSERT INTO detached_reattach VALUES (1)', [], { timeoutMs: 20_000 });
    const set = await standbyNames(scenario, 'pg1');
    report('synchronous commit after re-attachment', { commit_ms: Date.now() - commitStarted, synchronous_standby_names: set });
    assert.match(set, /^ANY 1 /, 'still a synchronous set on the master');
    const syncStates = await cluster.query<{ application_name: string; sync_state: string }>('pg1', 'SELECT application_name, sync_state FROM pg_stat_replication', [], { timeoutMs: 2000 });
    assert.deepEqual(syncStates.map((row) => `${row.application_name}:${row.sync_state}`).sort(), ['pg2:quorum', 'pg3:quorum']);
    assert.equal(hr.getMasterName(), 'pg1');
    await assertNoSplitBrain(scenario);
  });
});
