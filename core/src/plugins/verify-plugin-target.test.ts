import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { definePlugin, ErrorCodes, fail, PluginLoadError } from '@handyrep/plugin-sdk';
import { installedPluginNames } from './installed-plugins.js';
import { configNameOfPackage, pluginCandidates } from './plugin-name.js';
import { verifyPluginPackage } from './verify-plugin-package.js';

const workspace = fileURLToPath(new URL('../../../', import.meta.url));

const hello = definePlugin<'fencing', { attempts: number }>({
  kind: 'fencing',
  name: 'hello',
  description: 'Says hello instead of fencing.',
  configSchema: { type: 'object', properties: { attempts: { type: 'integer', minimum: 1, default: 2 } }, additionalProperties: false },
  create() {
    return { fence: async (server: string) => fail(`hello ${server}`, { fenced: false }) };
  },
});

const HELLO_SOURCE = `import { definePlugin, fail } from '@handyrep/plugin-sdk';
export const plugin = definePlugin({
  kind: 'fencing', name: 'hello', description: 'Says hello.',
  configSchema: { type: 'object', properties: { attempts: { type: 'integer', minimum: 1, default: 2 } }, additionalProperties: false },
  create() { return { fence: async (server) => fail('hello ' + server, { fenced: false }) }; },
});
`;

describe('the SDK is no plugin', () => {
  it('is never listed as an installed plugin, nor tried for the name sdk', () => {
    assert.equal(configNameOfPackage('@handyrep/plugin-sdk'), undefined);
    assert.ok(!installedPluginNames([workspace]).includes('sdk'));
    assert.deepEqual(pluginCandidates('sdk', '/x').map((c) => c.specifier), ['handyrep-plugin-sdk']);
  });
});

describe('verifyPlugin targets: the plugin object, . and its own name', () => {
  let dir = '';

  before(async () => {
    // A plugin package being written: package.json with exports, its build in dist, the workspace's packages installed.
    dir = await mkdtemp(join(tmpdir(), 'handyrep-own-plugin-'));
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'handyrep-plugin-hello', version: '0.3.0', type: 'module', main: './dist/index.js', exports: { '.': './dist/index.js' } }),
    );
    await mkdir(join(dir, 'dist'));
    await writeFile(join(dir, 'dist/index.js'), HELLO_SOURCE);
    await symlink(join(workspace, 'node_modules'), join(dir, 'node_modules'));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('verifies the plugin object itself: schema defaults, creation, methods', async () => {
    const report = await verifyPluginPackage(hello, { kind: 'fencing' });
    assert.deepEqual(report, { name: 'hello', kind: 'fencing', packageName: undefined, packageVersion: undefined, config: { attempts: 2 }, methods: ['fence'] });
    await assert.rejects(verifyPluginPackage(hello, { config: { attempts: 0 } }), /attempts/);
    await assert.rejects(verifyPluginPackage(hello, { kind: 'poll' }), (err: unknown) => err instanceof PluginLoadError && err.code === ErrorCodes.PLUGIN_WRONG_KIND);
  });

  it('refuses an object not made with definePlugin', async () => {
    await assert.rejects(
      verifyPluginPackage({ name: 'fake' } as unknown as typeof hello),
      (err: unknown) => err instanceof PluginLoadError && err.code === ErrorCodes.PLUGIN_NO_EXPORT && /the plugin object 'fake' was not made with definePlugin/.test(err.message),
    );
  });

  it("'.' is the package in the working directory, loaded through its package.json", async () => {
    const report = await verifyPluginPackage('.', { baseDir: dir, kind: 'fencing' });
    assert.equal(report.packageName, 'handyrep-plugin-hello');
    assert.equal(report.packageVersion, '0.3.0');
  });

  it('inside its own package, its config name and package name mean the package itself', async () => {
    for (const name of ['hello', 'handyrep-plugin-hello']) {
      const report = await verifyPluginPackage(name, { baseDir: dir, kind: 'fencing' });
      assert.equal(report.packageName, 'handyrep-plugin-hello', name);
    }
  });

  it('another name is still looked for as a package, and not found', async () => {
    await assert.rejects(verifyPluginPackage('goodbye', { baseDir: dir }), (err: unknown) => err instanceof PluginLoadError && err.code === ErrorCodes.PLUGIN_NOT_FOUND);
  });
});
