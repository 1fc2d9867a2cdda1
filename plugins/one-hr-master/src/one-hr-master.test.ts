import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { OneHrMasterConfig } from './config.js';
import { createOneHrMaster } from './one-hr-master.js';
import { plugin } from './plugin.js';

describe('one_hr_master', () => {
  it('always acts, under the configured instance name', async () => {
    const { context } = createTestContext<OneHrMasterConfig>({ config: { instance_name: 'hr-east' } });
    const master = await plugin.create(context);
    const decision = await master.check();
    assert.deepEqual(decision, {
      acting: true,
      acting_instance: 'hr-east',
      details: 'one_hr_master: single HandyRep instance; hr-east always acts',
    });
  });

  it('uses the host name when instance_name is empty or blank', async () => {
    for (const instance_name of ['', '   ']) {
      const { context } = createTestContext<OneHrMasterConfig>({ config: { instance_name } });
      const decision = await createOneHrMaster(context, () => 'box-7').check();
      assert.equal(decision.acting, true);
      assert.equal(decision.acting_instance, 'box-7');
    }
  });

  it('answers the same on every call', async () => {
    let calls = 0;
    const { context } = createTestContext<OneHrMasterConfig>({ config: { instance_name: '' } });
    const master = createOneHrMaster(context, () => `host-${(calls += 1)}`);
    assert.equal((await master.check()).acting_instance, 'host-1');
    assert.equal((await master.check()).acting_instance, 'host-1');
  });

  it('loads through the real core loader; the default name is this host', async () => {
    const report = await verifyPlugin('one_hr_master', { kind: 'hr_master', config: {} });
    assert.equal(report.name, 'one_hr_master');
    assert.deepEqual(report.config, { instance_name: '' });
    const { context } = createTestContext<OneHrMasterConfig>({ config: { instance_name: '' } });
    assert.equal((await (await plugin.create(context)).check()).acting_instance, hostname());
  });

  it('the core loader rejects unknown keys', async () => {
    await assert.rejects(verifyPlugin('one_hr_master', { kind: 'hr_master', config: { acting: false } }), /acting|additional/);
  });
});
