import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './plugin.js';

describe('restart_pg_ctl declaration', () => {
  it('loads through the real core loader as a control plugin with its defaults', async () => {
    const report = await verifyPlugin('restart_pg_ctl', { kind: 'control', config: {} });
    assert.equal(report.name, 'restart_pg_ctl');
    assert.equal(report.packageName, '@handyrep/plugin-restart-pg-ctl');
    assert.deepEqual(report.config, { wait_seconds: 60, command_timeout_seconds: 10, log_file: 'log/handyrep-pg_ctl.log' });
  });

  it('rejects an unknown key and a wait of zero', async () => {
    await assert.rejects(verifyPlugin('restart_pg_ctl', { kind: 'control', config: { wait_secs: 5 } }), { code: 'HR_PLUGIN_CONFIG_INVALID' });
    await assert.rejects(verifyPlugin('restart_pg_ctl', { kind: 'control', config: { wait_seconds: 0 } }), { code: 'HR_PLUGIN_CONFIG_INVALID' });
  });

  it('documents every config key', () => {
    for (const [key, schema] of Object.entries(plugin.configSchema.properties)) {
      assert.ok(schema.description && schema.default !== undefined, key);
    }
  });
});
