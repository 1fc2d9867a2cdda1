// Issue 17: a master postmaster killed while its parent does not reap it
// stays a zombie, which pg_ctl status and PostgreSQL's own lock-file check
// (both kill(pid, 0)) take for a running server. With restart_master HandyRep
// must still restart it in place, with no failover; fence_shutdown must
// confirm such a postmaster down at once. Figures are printed, not asserted.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FencingPlugin } from '@handyrep/plugin-sdk';
import { openScenario, report, statusOf, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

/** The /proc state letter of a process, or undefined when it is gone. */
function stateOf(pid: number): string | undefined {
  try {
    return /\) (\S) /.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

describe('issue 17: a killed master postmaster that stays a zombie', () => {
  let scenario: Scenario;

  before(async () => {
    scenario = await openScenario({ writer: false, overrides: { failover: { restart_master: true } } });
    // pg1 again, now below a parent that does not reap it.
    const { cluster } = scenario;
    await cluster.faults.stop('pg1');
    await cluster.faults.startUnreaped('pg1');
    await cluster.waitStreaming();
    await cluster.query('pg1', 'CREATE TABLE zombie_probe (t timestamptz)');
  });

  after(async () => {
    await scenario?.cluster.faults.resume('pg1').catch(() => undefined);
    await scenario?.close();
  });

  /** Milliseconds from `since` until pg1 takes a write, tried every 20 ms. */
  async function writableAfter(since: number, timeoutMs: number): Promise<number | undefined> {
    const { cluster } = scenario;
    const ok = await waitFor(
      async () => {
        try {
          await cluster.query('pg1', 'INSERT INTO zombie_probe VALUES (now())', [], { timeoutMs: 300 });
          return true;
        } catch {
          return false;
        }
      },
      timeoutMs,
      20,
    );
    return ok ? Date.now() - since : undefined;
  }

  it('restart_master restarts it in place while it is still a zombie, with no failover', async () => {
    const { cluster, hr } = scenario;
    hr.startMonitor();
    assert.ok(await waitFor(async () => (await statusOf(hr)).servers['pg1']?.status === 'healthy', 10_000), 'first check ran');
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const faultAt = Date.now();
    const killed = await cluster.faults.kill('pg1');
    assert.equal(stateOf(killed), 'Z', 'the killed postmaster is a zombie');
    const writable = await writableAfter(faultAt, 20_000);
    if (writable === undefined) console.log(readFileSync(`${cluster.host('pg1').pgdata}/log/handyrep-pg_ctl.log`, 'utf8').split('\n').slice(-30).join('\n'));
    assert.ok(writable !== undefined, 'pg1 takes writes again');
    assert.equal(stateOf(killed), 'Z', 'still a zombie when the new postmaster took writes: restarted despite it');
    report('issue 17 (zombie master, restart_master)', { fault_to_writable_ms: writable });

    // Long enough for a wrong decision to show.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await hr.stopMonitor();
    assert.deepEqual(await cluster.findMasters(1000), ['pg1'], 'pg1 is still the only master');
    assert.equal(hr.getMasterName(), 'pg1');
    for (const replica of ['pg2', 'pg3']) assert.equal(await cluster.inRecovery(replica), true, `${replica} is still a replica`);
    const status = await statusOf(hr);
    assert.equal(status.servers['pg1']?.enabled, true);
    assert.match(status.servers['pg1']?.status_message ?? '', /restarted|responding|verified/);
    const newPid = cluster.postmasterPid('pg1');
    assert.ok(newPid !== null && newPid !== killed, 'a new postmaster runs');
  });

  it('fence_shutdown confirms a SIGKILLed (zombie) postmaster and a hung one it kills, at once', async () => {
    const { cluster, hr } = scenario;
    const fence = hr.pluginInstance('fencing', 'fence_shutdown') as FencingPlugin | undefined;
    assert.ok(fence, 'fence_shutdown is loaded');
    const figures: Record<string, number> = {};

    // The restarted pg1 runs below the host's reaper: back below the unreaping parent.
    await cluster.faults.reapUnreaped('pg1');
    await cluster.faults.stop('pg1');
    await cluster.faults.startUnreaped('pg1');
    const killed = await cluster.faults.kill('pg1');
    assert.equal(stateOf(killed), 'Z');
    let started = performance.now();
    let result = await fence.fence('pg1');
    figures['sigkilled_fence_ms'] = Math.round(performance.now() - started);
    assert.equal(result.fenced, true, result.details);
    assert.equal(stateOf(killed), 'Z', 'confirmed while still a zombie');

    await cluster.faults.reapUnreaped('pg1');
    await cluster.faults.startUnreaped('pg1');
    const hung = cluster.postmasterPid('pg1');
    assert.ok(hung);
    await cluster.faults.hang('pg1');
    started = performance.now();
    result = await fence.fence('pg1');
    figures['hung_fence_ms'] = Math.round(performance.now() - started);
    assert.equal(result.fenced, true, result.details);
    assert.match(result.details, /SIGKILLed the postmaster/);
    assert.equal(stateOf(hung), 'Z', 'the killed hung postmaster is a zombie');
    cluster.hostState('pg1').hungPids = [];
    report('issue 17 (zombie postmaster, fence_shutdown)', figures);
    console.log(`# fence details: ${result.details}`);
  });
});
