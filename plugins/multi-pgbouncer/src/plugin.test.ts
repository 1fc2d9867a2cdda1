import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './plugin.js';

describe('multi_pgbouncer declaration', () => {
  it('loads through the real core loader as a connection_failover plugin with its defaults', async () => {
    const config = { database_list: ['appdb', 'reports'] };
    const report = await verifyPlugin('multi_pgbouncer', { kind: 'connection_failover', config });
    assert.equal(report.name, 'multi_pgbouncer');
    assert.equal(report.packageName, '@handyrep/plugin-multi-pgbouncer');
    assert.deepEqual(report.methods.slice().sort(), ['failover', 'init', 'pause', 'poll', 'resume']);
    assert.deepEqual(report.config, {
      database_list: ['appdb', 'reports'],
      readonly_suffix: '_ro',
      admin_method: 'sql',
      admin_user: '',
      admin_password_key: 'superuser_password',
      pause_timeout_seconds: 5,
      on_pause_timeout: 'kill',
      failover_disconnect: 'kill',
      admin_timeout_seconds: 5,
      command_timeout_seconds: 10,
      psql_path: 'psql',
    });
  });

  it('takes database_list as one comma-separated string too', async () => {
    const report = await verifyPlugin('multi_pgbouncer', { kind: 'connection_failover', config: { database_list: 'appdb, reports' } });
    assert.equal(report.config['database_list'], 'appdb, reports');
  });

  it('refuses a missing list, metacharacters in names or suffix, unknown keys and bad enums at load', async () => {
    for (const config of [
      {},
      { database_list: [] },
      { database_list: 'appdb; touch /tmp/x' },
      { database_list: ['app db'] },
      { database_list: ['appdb', '$(id)'] },
      { database_list: 'appdb', readonly_suffix: '-ro' },
      { database_list: 'appdb', pause_timeout: 3 },
      { database_list: 'appdb', on_pause_timeout: 'wait' },
      { database_list: 'appdb', admin_method: 'ssh' },
      { database_list: 'appdb', psql_path: 'psql; id' },
    ]) {
      await assert.rejects(verifyPlugin('multi_pgbouncer', { kind: 'connection_failover', config }), { code: 'HR_PLUGIN_CONFIG_INVALID' }, JSON.stringify(config));
    }
  });

  it('documents every key, config and per-server, with a default (database_list is required)', () => {
    for (const [key, schema] of Object.entries(plugin.configSchema.properties)) {
      assert.ok(schema.description, key);
      assert.ok(key === 'database_list' || schema.default !== undefined, key);
    }
    assert.deepEqual(plugin.configSchema.required, ['database_list']);
    for (const [key, schema] of Object.entries(plugin.serverSchema?.properties ?? {})) {
      assert.ok(schema.description && schema.default !== undefined, key);
    }
  });
});
