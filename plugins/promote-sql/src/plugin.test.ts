import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './plugin.js';

describe('promote_sql declaration', () => {
  it('loads through the real core loader as a promotion plugin with its defaults', async () => {
    const report = await verifyPlugin('promote_sql', { kind: 'promotion', config: {} });
    assert.equal(report.packageName, '@handyrep/plugin-promote-sql');
    assert.deepEqual(report.config, { wait_seconds: 60, command_timeout_seconds: 10, confirm_seconds: 10, confirm_interval_ms: 200 });
  });

  it('rejects unknown keys and a wait of zero', async () => {
    await assert.rejects(verifyPlugin('promote_sql', { kind: 'promotion', config: { wait: 1 } }), { code: 'HR_PLUGIN_CONFIG_INVALID' });
    await assert.rejects(verifyPlugin('promote_sql', { kind: 'promotion', config: { wait_seconds: 0 } }), { code: 'HR_PLUGIN_CONFIG_INVALID' });
  });

  it('documents every config key with a default', () => {
    for (const [key, schema] of Object.entries(plugin.configSchema.properties)) assert.ok(schema.description && schema.default !== undefined, key);
  });
});
