import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PLUGIN_KINDS } from '@handyrep/plugin-sdk';
import type { PluginDeclaration } from '@handyrep/plugin-sdk';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { main } from './main.js';
import { pluginNames } from './plugin-names.js';
import { ownVersions, scaffoldPlugin } from './scaffold.js';

const workspace = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(workspace, 'node_modules/typescript/bin/tsc');

describe('pluginNames', () => {
  it('gives one config name and package for every spelling', () => {
    for (const typed of ['acme_fence', 'acme-fence', 'handyrep-plugin-acme-fence']) {
      assert.deepEqual(pluginNames(typed), { configName: 'acme_fence', packageName: 'handyrep-plugin-acme-fence', configType: 'AcmeFenceConfig' });
    }
  });

  it('refuses what cannot be a config name', () => {
    assert.throws(() => pluginNames('Acme Fence'), /cannot be a plugin name/);
    assert.throws(() => pluginNames('9lives'), /cannot be a plugin name/);
  });
});

describe('ownVersions', () => {
  it('asks for the SDK, core, TypeScript and Node types this package is built with, and its engines', async () => {
    const own = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      engines: { node: string };
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    assert.deepEqual(ownVersions(), {
      sdk: own.dependencies['@handyrep/plugin-sdk'],
      core: own.devDependencies['@handyrep/core'],
      typescript: own.devDependencies['typescript'],
      typesNode: own.devDependencies['@types/node'],
      node: own.engines.node,
    });
  });
});

describe('scaffoldPlugin: one package per kind, against the workspace SDK and core', () => {
  let dir = '';
  const made = new Map<string, string>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handyrep-scaffold-'));
    // The generated packages resolve the SDK, the core, TypeScript and Node's types from the workspace.
    await symlink(join(workspace, 'node_modules'), join(dir, 'node_modules'));
    for (const kind of PLUGIN_KINDS) {
      const result = await scaffoldPlugin({ name: `try_${kind}`, kind, directory: join(dir, kind) });
      made.set(kind, result.directory);
    }
    // One tsc run builds them all (each with its own tsconfig), as `npm run build` would one by one.
    const build = spawnSync(process.execPath, [tsc, '-b', ...made.values()], { encoding: 'utf8' });
    assert.equal(build.status, 0, `${build.stdout}${build.stderr}`);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes package.json with exports, tsconfig, schema, README and an example test', async () => {
    const fencing = made.get('fencing') ?? '';
    const pkg = JSON.parse(await readFile(join(fencing, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg['name'], 'handyrep-plugin-try-fencing');
    assert.deepEqual(pkg['exports'], { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' });
    assert.deepEqual(pkg['peerDependencies'], { '@handyrep/plugin-sdk': ownVersions().sdk });
    assert.ok((pkg['keywords'] as string[]).includes('handyrep-plugin'));
    assert.match(await readFile(join(fencing, 'src/config.ts'), 'utf8'), /export const configSchema: ObjectSchema/);
    assert.match(await readFile(join(fencing, 'README.md'), 'utf8'), /fencing_method = try_fencing/);
    assert.match(await readFile(join(fencing, 'src/plugin.test.ts'), 'utf8'), /verifyPlugin\('\.'/);
  });

  it('every kind builds and passes verifyPlugin, as an object and through its package.json', async () => {
    for (const kind of PLUGIN_KINDS) {
      const packageDir = made.get(kind) ?? '';
      const { plugin } = (await import(join(packageDir, 'dist/index.js'))) as { plugin: PluginDeclaration };
      const report = await verifyPlugin(plugin, { kind });
      assert.deepEqual(report.config, { timeout_seconds: 10 }, kind);
      const found = await verifyPlugin('.', { kind, baseDir: packageDir });
      assert.equal(found.packageName, `handyrep-plugin-try-${kind.replace(/_/g, '-')}`);
      // Inside its own package, its config name means the package itself.
      assert.equal((await verifyPlugin(`try_${kind}`, { kind, baseDir: packageDir })).name, `try_${kind}`);
    }
  });

  it("the generated tests pass with the package's own test command", () => {
    const fencing = made.get('fencing') ?? '';
    // Its own run, not a child of this one: without NODE_TEST_CONTEXT it reports as usual.
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env['PATH'] ?? ''}` };
    delete env['NODE_TEST_CONTEXT'];
    const run = spawnSync('sh', ['-c', 'node --test dist/*.test.js'], { cwd: fencing, encoding: 'utf8', env });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /pass 4/);
  });

  it('refuses a folder that is not empty, and an unknown kind', async () => {
    await assert.rejects(scaffoldPlugin({ name: 'again', kind: 'fencing', directory: made.get('fencing') ?? '' }), /exists and is not empty/);
    await assert.rejects(scaffoldPlugin({ name: 'odd', kind: 'teleport', directory: join(dir, 'odd') }), /unknown kind 'teleport': one of poll, /);
  });
});

describe('main (npm init @handyrep/plugin)', () => {
  it('needs a name and --kind, and says how', async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (text: string) => errors.push(text);
    try {
      assert.equal(await main([]), 2);
      assert.equal(await main(['acme']), 2);
      assert.equal(await main(['acme', '--kind']), 2);
    } finally {
      console.error = original;
    }
    assert.match(errors[0] ?? '', /a plugin name is needed[\s\S]*usage: npm init @handyrep\/plugin <name> -- --kind <kind>/);
    assert.match(errors[1] ?? '', /--kind is needed/);
  });
});
