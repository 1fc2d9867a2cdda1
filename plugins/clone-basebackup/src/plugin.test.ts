import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './plugin.js';

describe('clone_basebackup declaration', () => {
  it('loads through the real core loader as a clone plugin with its defaults', async () => {
    const report = await verifyPlugin('clone_basebackup', { kind: 'clone', config: {} });
    assert.equal(report.name, 'clone_basebackup');
    assert.equal(report.packageName, '@handyrep/plugin-clone-basebackup');
    assert.deepEqual(report.config, {
      timeout_seconds: 3600,
      command_timeout_seconds: 30,
      checkpoint: 'fast',
      max_rate: '',
      replication_passfile: 'handyrep-replication.pgpass',
      rewind_timeout_seconds: 1800,
      rewind_restore_target_wal: false,
    });
  });

  it('takes a full config and rejects unknown keys, bad rates and checkpoint modes', async () => {
    const ok = await verifyPlugin('clone_basebackup', { kind: 'clone', config: { timeout_seconds: '600', max_rate: '50M', checkpoint: 'spread' } });
    assert.equal(ok.config['timeout_seconds'], 600);
    for (const config of [{ timeout: 5 }, { max_rate: '50 M' }, { max_rate: '0' }, { checkpoint: 'slow' }, { timeout_seconds: 1 }, { replication_passfile: 'a\nb' }]) {
      await assert.rejects(verifyPlugin('clone_basebackup', { kind: 'clone', config }), { code: 'HR_PLUGIN_CONFIG_INVALID' }, JSON.stringify(config));
    }
  });

  it('documents every config key with a default', () => {
    for (const [key, schema] of Object.entries(plugin.configSchema.properties)) {
      assert.ok(schema.description && schema.default !== undefined, key);
    }
  });
});
