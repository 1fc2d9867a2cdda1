import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './plugin.js';

describe('archive_remote declaration', () => {
  it('loads through the real core loader as an archive plugin with its defaults', async () => {
    const report = await verifyPlugin('archive_remote', { kind: 'archive', config: {} });
    assert.equal(report.name, 'archive_remote');
    assert.equal(report.packageName, '@handyrep/plugin-archive-remote');
    assert.deepEqual(report.config, {
      script_path: '',
      fsync: true,
      copy_timeout_seconds: 120,
      ssh_connect_timeout_seconds: 10,
      ssh_identity_file: '',
      ssh_known_hosts_file: '',
      strict_host_key_checking: 'yes',
      command_timeout_seconds: 15,
      query_timeout_seconds: 5,
    });
  });

  it('rejects a known_hosts path ssh would split, a relative key, host key checking off, an unknown key', async () => {
    for (const config of [
      { ssh_known_hosts_file: '/etc/known hosts' },
      { ssh_known_hosts_file: 'known_hosts' },
      { ssh_identity_file: 'id_ed25519' },
      { strict_host_key_checking: 'no' },
      { ssh_options: '-v' },
    ]) {
      await assert.rejects(verifyPlugin('archive_remote', { kind: 'archive', config }), { code: 'HR_PLUGIN_CONFIG_INVALID' }, JSON.stringify(config));
    }
  });

  it('documents every config key with a default', () => {
    for (const [key, schema] of Object.entries(plugin.configSchema.properties)) {
      assert.ok(schema.description && schema.default !== undefined, key);
    }
  });
});
