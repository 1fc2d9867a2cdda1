import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './plugin.js';

describe('archive_local_dir declaration', () => {
  it('loads through the real core loader as an archive plugin with its defaults', async () => {
    const report = await verifyPlugin('archive_local_dir', { kind: 'archive', config: {} });
    assert.equal(report.name, 'archive_local_dir');
    assert.equal(report.packageName, '@handyrep/plugin-archive-local-dir');
    assert.deepEqual(report.config, { script_path: '', fsync: true, copy_timeout_seconds: 120, command_timeout_seconds: 15, query_timeout_seconds: 5 });
    assert.deepEqual([...report.methods].sort(), ['poll', 'pushScript', 'start', 'stop']);
  });

  it('rejects an unknown key, a relative script path and a zero time-out', async () => {
    for (const config of [{ script_dir: '/x' }, { script_path: 'archive.sh' }, { script_path: '/opt/' }, { copy_timeout_seconds: 0 }]) {
      await assert.rejects(verifyPlugin('archive_local_dir', { kind: 'archive', config }), { code: 'HR_PLUGIN_CONFIG_INVALID' }, JSON.stringify(config));
    }
  });

  it('documents every config key with a default', () => {
    for (const [key, schema] of Object.entries(plugin.configSchema.properties)) {
      assert.ok(schema.description && schema.default !== undefined, key);
    }
  });
});
