import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, PluginLoadError } from '@handyrep/plugin-sdk';
import { loadConfig } from '../config/load-config.js';
import { loadPlugin } from './plugin-loader.js';

/** A package that would announce itself if it were ever imported. */
async function plantPackage(nodeModules: string, name: string, marker: string): Promise<void> {
  const dir = join(nodeModules, ...name.split('/'));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '6.6.6', type: 'module', main: './index.js' }));
  await writeFile(join(dir, 'index.js'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'imported');\nexport const plugin = {};\n`);
}

describe('plugin resolution', () => {
  let root: string;
  let configDir: string;
  let marker: string;

  before(async () => {
    // <root>/node_modules holds the planted packages; the config file sits in <root>/etc/handyrep.
    root = await mkdtemp(join(tmpdir(), 'handyrep-plant-'));
    configDir = join(root, 'etc', 'handyrep');
    await mkdir(configDir, { recursive: true });
    marker = join(root, 'planted-package-was-imported');
    await plantPackage(join(root, 'node_modules'), '@handyrep/plugin-poll-isready', marker);
    await plantPackage(join(root, 'node_modules'), 'handyrep-plugin-planted', marker);
    await plantPackage(join(configDir, 'node_modules'), 'handyrep-plugin-beside', marker);
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("ignores a planted @handyrep/plugin-poll-isready in the config file's parent directory", async () => {
    const file = join(configDir, 'handyrep.conf');
    await writeFile(file, ['[failover]', 'poll_method = poll_isready', '[servers.db1]', 'hostname = 127.0.0.1', 'role = master'].join('\n'), { mode: 0o600 });
    const loaded = await loadConfig(file);
    const plugin = loaded.plugins.get('poll_isready');
    assert.equal(plugin?.packageName, '@handyrep/plugin-poll-isready');
    assert.notEqual(plugin?.packageVersion, '6.6.6');
    assert.ok(!plugin?.entryPath.startsWith(root), plugin?.entryPath);
    assert.equal(plugin?.declaration.name, 'poll_isready');
  });

  it('does not search the config directory or its parents for a package HandyRep does not have', async () => {
    for (const name of ['planted', 'beside']) {
      await assert.rejects(loadPlugin(name, { baseDir: configDir }), (err: unknown) => {
        assert.ok(err instanceof PluginLoadError);
        assert.equal(err.code, ErrorCodes.PLUGIN_NOT_FOUND);
        assert.match(err.message, /plugin_paths/);
        return true;
      });
    }
    assert.equal(existsSync(marker), false, 'nothing planted was imported');
  });

  it('finds a package in a plugin_paths directory, but not in that directory\'s parents', async () => {
    // plugin_paths = <config dir> means <config dir>/node_modules, and only it.
    const beside = await loadPlugin('beside', { baseDir: configDir, pluginPaths: [configDir] }).catch((err: unknown) => err);
    // The planted package is no real plugin: finding it shows as "no export", not "not found".
    assert.equal((beside as PluginLoadError).code, ErrorCodes.PLUGIN_NO_EXPORT);
    await assert.rejects(loadPlugin('planted', { baseDir: configDir, pluginPaths: [configDir] }), { code: ErrorCodes.PLUGIN_NOT_FOUND });
  });
});
