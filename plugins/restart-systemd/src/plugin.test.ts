import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './plugin.js';

describe('restart_systemd declaration', () => {
  it('loads through the real core loader as a control plugin with its defaults', async () => {
    const report = await verifyPlugin('restart_systemd', { kind: 'control', config: {} });
    assert.equal(report.packageName, '@handyrep/plugin-restart-systemd');
    assert.deepEqual(report.config, { use_sudo: true, systemctl_path: 'systemctl', wait_seconds: 60, command_timeout_seconds: 10 });
  });

  it('coerces INI strings and rejects unknown keys', async () => {
    const report = await verifyPlugin('restart_systemd', { kind: 'control', config: { use_sudo: 'false', wait_seconds: '5' } });
    assert.equal(report.config['use_sudo'], false);
    assert.equal(report.config['wait_seconds'], 5);
    await assert.rejects(verifyPlugin('restart_systemd', { config: { sudo: true } }), { code: 'HR_PLUGIN_CONFIG_INVALID' });
  });

  it('declares systemd_unit per server, defaulting to postgresql@15-main, never with a leading dash', () => {
    const unit = plugin.serverSchema?.properties['systemd_unit'];
    assert.equal(unit?.default, 'postgresql@15-main');
    const pattern = new RegExp(String(unit?.pattern));
    for (const ok of ['postgresql@15-main', 'postgresql-15.service', 'pg\\x2dmain.service']) assert.ok(pattern.test(ok), ok);
    for (const bad of ['-H host', 'a b', 'x;y', '']) assert.ok(!pattern.test(bad), bad);
    for (const [key, schema] of Object.entries(plugin.configSchema.properties)) assert.ok(schema.description && schema.default !== undefined, key);
  });
});
