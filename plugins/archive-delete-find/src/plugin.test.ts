import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './plugin.js';

describe('archive_delete_find declaration', () => {
  it('loads through the real core loader as an archive_cleanup plugin with its defaults', async () => {
    const report = await verifyPlugin('archive_delete_find', { kind: 'archive_cleanup', config: {} });
    assert.equal(report.name, 'archive_delete_find');
    assert.equal(report.packageName, '@handyrep/plugin-archive-delete-find');
    assert.deepEqual(report.config, { command_timeout_seconds: 300 });
    assert.deepEqual([...report.methods], ['cleanup']);
  });

  it('rejects an unknown key and a zero time-out', async () => {
    await assert.rejects(verifyPlugin('archive_delete_find', { kind: 'archive_cleanup', config: { delete_hours: 5 } }), { code: 'HR_PLUGIN_CONFIG_INVALID' });
    await assert.rejects(verifyPlugin('archive_delete_find', { kind: 'archive_cleanup', config: { command_timeout_seconds: 0 } }), { code: 'HR_PLUGIN_CONFIG_INVALID' });
  });

  it('documents every config key with a default', () => {
    for (const [key, schema] of Object.entries(plugin.configSchema.properties)) {
      assert.ok(schema.description && schema.default !== undefined, key);
    }
  });
});
