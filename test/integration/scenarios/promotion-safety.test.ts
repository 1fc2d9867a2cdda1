// Issue 12: the promotion path never leaves two masters. A promotion plugin
// that reports FAIL after it really promoted leads to exactly one master; a
// failover whose journal cannot be written mid-way promotes nobody.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertNoSplitBrain, openScenario } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

interface FailoverReport {
  result: string;
  details: string;
  steps?: { step: string; result: string; details: string }[];
}

function failoverOf(check: unknown): FailoverReport | undefined {
  return (check as { failover?: FailoverReport }).failover;
}

describe('issue 12: promotion safety on a real cluster', { timeout: 600_000 }, () => {
  const open: Scenario[] = [];
  const mounts: string[] = [];
  after(async () => {
    for (const dir of mounts) {
      try {
        execFileSync('umount', ['-l', dir]);
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    }
    for (const scenario of open) await scenario.close();
  });

  it('a promotion plugin that reports FAIL after really promoting leaves exactly one master', async () => {
    const scenario = await openScenario({
      writer: false,
      overrides: {
        server_defaults: { promotion_method: fixture('promote-then-fail') },
        'servers.pg2': { failover_priority: 1 },
        'servers.pg3': { failover_priority: 2 },
      },
    });
    open.push(scenario);
    const { cluster, hr } = scenario;
    await cluster.waitCaughtUp();
    await cluster.faults.sshDown('pg1');
    await cluster.faults.kill('pg1');
    const check = await hr.failoverCheck();
    const failover = failoverOf(check);
    const steps = (failover?.steps ?? []).map((step) => `${step.step}:${step.result}`);
    console.log(`# promotion reported FAIL after promoting: ${check.result} ${check.details}\n#   steps: ${steps.join(', ')}`);
    const masters = await cluster.findMasters(2000);
    assert.deepEqual(masters, ['pg2'], `exactly one server out of recovery: ${masters.join(', ')}`);
    assert.equal(check.result, 'SUCCESS', check.details);
    assert.equal(hr.getMasterName(), 'pg2', 'the registry names the one real master');
    assert.ok(steps.includes('promote pg2:FAIL'), steps.join(', '));
    assert.ok(!steps.some((step) => step.startsWith('promote pg3')), `pg3 was never promoted: ${steps.join(', ')}`);
    assert.equal(await cluster.inRecovery('pg3'), true);
    await assertNoSplitBrain(scenario);
  });

  it('a journal directory made read-only mid-failover leads to no promotion', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'hr-journal-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', stateDir]);
    mounts.push(stateDir);
    const scenario = await openScenario({
      writer: false,
      overrides: {
        handyrep: { server_file: join(stateDir, 'servers.save') },
        failover: { fencing_method: fixture('fence-then-readonly') },
        'plugins.fence_shutdown': null,
        'plugins.fence_then_readonly': { readonly_dir: stateDir, stop_timeout_ms: 1000, confirm_timeout_ms: 3000 },
      },
    });
    open.push(scenario);
    const { cluster, hr } = scenario;
    await cluster.waitCaughtUp();
    await cluster.faults.sshDown('pg1');
    await cluster.faults.kill('pg1');
    const check = await hr.failoverCheck();
    const failover = failoverOf(check);
    const steps = (failover?.steps ?? []).map((step) => `${step.step}:${step.result}`);
    console.log(`# journal read-only mid-failover: ${check.result} ${check.details}\n#   steps: ${steps.join(', ')}`);
    assert.equal(check.result, 'FAIL', check.details);
    assert.match(check.details, /journal cannot be written/);
    assert.ok(steps.includes('fence_old_master:SUCCESS'), `the journal broke after fencing: ${steps.join(', ')}`);
    assert.ok(!steps.some((step) => step.startsWith('promote ')), `nothing was promoted: ${steps.join(', ')}`);
    assert.deepEqual(await cluster.findMasters(2000), [], 'no server left recovery');
    assert.equal(await cluster.inRecovery('pg2'), true);
    assert.equal(await cluster.inRecovery('pg3'), true);
    execFileSync('mount', ['-o', 'remount,rw', stateDir]);
  });
});
