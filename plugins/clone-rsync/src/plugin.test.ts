import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './plugin.js';

describe('clone_rsync declaration', () => {
  it('loads through the real core loader as a clone plugin with its defaults', async () => {
    const report = await verifyPlugin('clone_rsync', { kind: 'clone', config: {} });
    assert.equal(report.name, 'clone_rsync');
    assert.equal(report.packageName, '@handyrep/plugin-clone-rsync');
    assert.deepEqual(report.config, {
      timeout_seconds: 3600,
      command_timeout_seconds: 30,
      checkpoint: 'fast',
      wait_for_archive: true,
      bwlimit_kbps: 0,
      ssh_key: '',
      known_hosts: '',
      strict_host_key_checking: 'yes',
      replication_passfile: 'handyrep-replication.pgpass',
    });
  });

  it('rejects unknown keys, key paths ssh or rsync would misread, and host key checking off', async () => {
    for (const config of [{ rsync: 1 }, { ssh_key: '/a b' }, { known_hosts: '/x/%h' }, { ssh_key: "/it's" }, { strict_host_key_checking: 'no' }, { bwlimit_kbps: -1 }]) {
      await assert.rejects(verifyPlugin('clone_rsync', { kind: 'clone', config }), { code: 'HR_PLUGIN_CONFIG_INVALID' }, JSON.stringify(config));
    }
  });

  it('documents every config and per-server key with a default', () => {
    for (const schema of [plugin.configSchema, plugin.serverSchema]) {
      assert.ok(schema);
      for (const [key, property] of Object.entries(schema.properties)) assert.ok(property.description && property.default !== undefined, key);
    }
  });
});
