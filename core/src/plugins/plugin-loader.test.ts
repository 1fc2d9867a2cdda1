import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, ErrorCodes, PluginLoadError } from '@handyrep/plugin-sdk';
import type { ErrorCode } from '@handyrep/plugin-sdk';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { loadConfig } from '../config/load-config.js';
import { fixturePlugin, writeTempConfig } from '../test-support/temp-config.js';
import { configNameOfPackage, pluginCandidates } from './plugin-name.js';
import { loadPlugin } from './plugin-loader.js';

const BASE = ['[servers.db1]', 'hostname = 127.0.0.1', 'role = master'];

async function loadFailure(lines: string[]): Promise<ConfigError> {
  const temp = await writeTempConfig([...lines, ...BASE].join('\n'));
  try {
    await loadConfig(temp.file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  } finally {
    await temp.cleanup();
  }
  assert.fail('the config was accepted');
}

describe('plugin name resolution', () => {
  it('maps config names to the official package, then the third-party one', () => {
    assert.deepEqual(
      pluginCandidates('promote_pg_ctl', '/etc/handyrep').map((c) => c.specifier),
      ['@handyrep/plugin-promote-pg-ctl', 'handyrep-plugin-promote-pg-ctl'],
    );
    assert.deepEqual(pluginCandidates('acme_fence', '/x').map((c) => c.specifier), [
      '@handyrep/plugin-acme-fence',
      'handyrep-plugin-acme-fence',
    ]);
  });

  it('uses scoped names and package names as written, and paths relative to the config', () => {
    assert.deepEqual(pluginCandidates('@acme/handyrep-fence', '/x'), [{ specifier: '@acme/handyrep-fence', isPath: false }]);
    assert.deepEqual(pluginCandidates('handyrep-plugin-acme-fence', '/x'), [
      { specifier: 'handyrep-plugin-acme-fence', isPath: false },
    ]);
    assert.deepEqual(pluginCandidates('./plugins/mine', '/etc/handyrep'), [
      { specifier: '/etc/handyrep/plugins/mine', isPath: true },
    ]);
    assert.deepEqual(pluginCandidates('/opt/p', '/etc/handyrep'), [{ specifier: '/opt/p', isPath: true }]);
  });

  it('maps package names back to config names', () => {
    assert.equal(configNameOfPackage('@handyrep/plugin-promote-pg-ctl'), 'promote_pg_ctl');
    assert.equal(configNameOfPackage('handyrep-plugin-acme-fence'), 'acme_fence');
    assert.equal(configNameOfPackage('@handyrep/core'), undefined);
  });
});

describe('plugin loader', () => {
  it('loads a well-formed plugin by path and applies its section defaults', async () => {
    const temp = await writeTempConfig(['[failover]', `poll_method = ${fixturePlugin('good-poll')}`, ...BASE].join('\n'));
    try {
      const loaded = await loadConfig(temp.file);
      const plugin = loaded.plugins.get(fixturePlugin('good-poll'));
      assert.equal(plugin?.declaration.name, 'good_poll');
      assert.equal(plugin?.packageName, 'fixture-good-poll');
      assert.equal(plugin?.packageVersion, '1.0.0');
      assert.deepEqual(loaded.config.plugins['good_poll'], { answer_ms: 3 });
    } finally {
      await temp.cleanup();
    }
  });

  const broken: [string, string, string, ErrorCode, RegExp][] = [
    ['missing package', 'failover', 'poll_method = no_such_plugin', ErrorCodes.PLUGIN_NOT_FOUND,
      /plugin 'no_such_plugin' \(named by \[failover\] poll_method\) not found: looked for @handyrep\/plugin-no-such-plugin or handyrep-plugin-no-such-plugin\. Installed plugins: /],
    ['no export', 'failover', `poll_method = ${fixturePlugin('no-export')}`, ErrorCodes.PLUGIN_NO_EXPORT, /has no export named 'plugin'/],
    ['not made with definePlugin', 'failover', `poll_method = ${fixturePlugin('not-declared')}`, ErrorCodes.PLUGIN_NO_EXPORT, /not made with definePlugin/],
    ['wrong kind', 'failover', `poll_method = ${fixturePlugin('wrong-kind')}`, ErrorCodes.PLUGIN_WRONG_KIND, /is a 'promotion' plugin, but a 'poll' plugin is needed/],
    ['apiVersion mismatch', 'failover', `poll_method = ${fixturePlugin('old-api')}`, ErrorCodes.PLUGIN_API_VERSION, /built for plugin API version 0, but this HandyRep supports version 1/],
    ['throws on import', 'failover', `poll_method = ${fixturePlugin('import-fails')}`, ErrorCodes.PLUGIN_IMPORT_FAILED, /module initialisation failed/],
  ];
  for (const [label, section, line, code, message] of broken) {
    it(`refuses a plugin with ${label}, naming the plugin and what was looked for`, async () => {
      const err = await loadFailure([`[${section}]`, line]);
      assert.equal(err.code, code);
      assert.equal(err.problems[0]?.section, section);
      assert.equal(err.problems[0]?.key, line.split(' = ')[0]);
      assert.match(err.message, message);
    });
  }

  it('refuses a section its plugin schema rejects, with section and key', async () => {
    const err = await loadFailure([
      '[handyrep]', `push_alert_method = ${fixturePlugin('strict-schema')}`,
      '[plugins.strict_schema]', 'endpoint = ftp://nope', 'retries = lots',
    ]);
    assert.equal(err.code, ErrorCodes.CONFIG_INVALID);
    assert.deepEqual(err.problems.map((p) => `${p.section}/${p.key}/${p.code}`), [
      `plugins.strict_schema/endpoint/${ErrorCodes.PLUGIN_CONFIG_INVALID}`,
      `plugins.strict_schema/retries/${ErrorCodes.PLUGIN_CONFIG_INVALID}`,
    ]);
    const missing = await loadFailure(['[handyrep]', `push_alert_method = ${fixturePlugin('strict-schema')}`]);
    assert.deepEqual(missing.problems.map((p) => `${p.section}/${p.key}: ${p.message}`), ['plugins.strict_schema/endpoint: is required']);
  });

  it("accepts a plugin's per-server keys and refuses a section for a plugin that is not loaded", async () => {
    const err = await loadFailure([
      '[handyrep]', `push_alert_method = ${fixturePlugin('strict-schema')}`,
      '[plugins.strict_schema]', 'endpoint = https://alerts.example',
      '[server_defaults]', 'alert_group = oncall',
      '[plugins.ghost]', 'x = 1',
    ]);
    assert.deepEqual(err.problems.map((p) => `${p.section}/${p.key}: ${p.message}`), ['plugins.ghost/: no loaded plugin has this name']);
  });

  it('lists several broken plugins at once', async () => {
    const err = await loadFailure([
      '[failover]', 'poll_method = no_such_plugin', `selection_method = ${fixturePlugin('no-export')}`,
      '[handyrep]', 'typo_key = 1',
    ]);
    assert.equal(err.problems.length, 3);
    assert.equal(err.code, ErrorCodes.CONFIG_INVALID);
  });

  it('returns the same error shape from loadPlugin directly', async () => {
    await assert.rejects(loadPlugin('no_such_plugin', { baseDir: '/tmp' }), (err: unknown) => {
      assert.ok(err instanceof PluginLoadError);
      assert.equal(err.pluginName, 'no_such_plugin');
      assert.equal(err.lookedFor, '@handyrep/plugin-no-such-plugin or handyrep-plugin-no-such-plugin');
      return true;
    });
  });
});

describe('verifyPlugin (SDK testing kit, real core loader)', () => {
  it('passes a good plugin and reports its declaration', async () => {
    const report = await verifyPlugin(fixturePlugin('good-poll'), { kind: 'poll', config: { answer_ms: 7 } });
    assert.equal(report.name, 'good_poll');
    assert.equal(report.kind, 'poll');
    assert.deepEqual(report.config, { answer_ms: 7 });
    assert.deepEqual(report.methods, ['poll']);
  });

  const failures: [string, Record<string, unknown>, ErrorCode][] = [
    ['factory-throws', {}, ErrorCodes.PLUGIN_FACTORY_FAILED],
    ['missing-methods', {}, ErrorCodes.PLUGIN_FACTORY_FAILED],
    ['strict-schema', { endpoint: 'gopher://x' }, ErrorCodes.PLUGIN_CONFIG_INVALID],
    ['old-api', {}, ErrorCodes.PLUGIN_API_VERSION],
  ];
  for (const [fixture, config, code] of failures) {
    it(`fails ${fixture} with ${code}`, async () => {
      await assert.rejects(verifyPlugin(fixturePlugin(fixture), { config }), (err: unknown) => {
        assert.equal((err as { code?: unknown }).code, code);
        return true;
      });
    });
  }

  it('fails a plugin of another kind than required', async () => {
    await assert.rejects(verifyPlugin(fixturePlugin('wrong-kind'), { kind: 'poll' }), (err: unknown) => {
      assert.equal((err as { code?: unknown }).code, ErrorCodes.PLUGIN_WRONG_KIND);
      return true;
    });
  });
});
