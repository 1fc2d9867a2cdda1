// Proves an outsider can write a plugin against the SDK alone: the SDK and the
// plugin are packed and installed into a throw-away project outside the
// workspace, and the core loads the plugin there by its config name.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig, verifyPluginPackage } from '@handyrep/core';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('third-party plugin installed by path', () => {
  let project = '';

  before(async () => {
    project = await mkdtemp(join(tmpdir(), 'handyrep-outsider-'));
    const pack = (dir: string): string =>
      execFileSync('npm', ['pack', dir, '--pack-destination', project, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop() ?? '';
    const sdk = pack(join(repoRoot, 'plugin-sdk'));
    const plugin = pack(join(repoRoot, 'test/fixtures/handyrep-plugin-acme-fence'));
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'outsider', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', `./${sdk}`, `./${plugin}`], {
      cwd: project,
      stdio: 'pipe',
    });
  });

  after(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('loads handyrep-plugin-acme-fence by the name acme_fence', async () => {
    const file = join(project, 'handyrep.conf');
    await writeFile(
      file,
      // The project's node_modules is searched only because plugin_paths names it (never by being next to the config).
      ['[handyrep]', 'plugin_paths = .', '[failover]', 'fencing_method = acme_fence', '[plugins.acme_fence]', 'attempts = 3', '[servers.db1]', 'hostname = 127.0.0.1', 'role = master'].join('\n'),
    );
    const loaded = await loadConfig(file);
    const plugin = loaded.plugins.get('acme_fence');
    assert.equal(plugin?.packageName, 'handyrep-plugin-acme-fence');
    assert.equal(plugin?.packageVersion, '2.3.0');
    assert.ok(plugin?.entryPath.startsWith(join(project, 'node_modules')), plugin?.entryPath);
    assert.equal(plugin?.declaration.kind, 'fencing');
    assert.deepEqual(loaded.config.plugins['acme_fence'], { power_command: '/usr/bin/true', attempts: 3 });
  });

  it('is not found without plugin_paths, though it sits next to the config file', async () => {
    const file = join(project, 'bare.conf');
    await writeFile(file, ['[failover]', 'fencing_method = acme_fence', '[servers.db1]', 'hostname = 127.0.0.1', 'role = master'].join('\n'), { mode: 0o600 });
    await assert.rejects(loadConfig(file), (err: unknown) => {
      assert.match(String((err as Error).message), /plugin 'acme_fence' .*not found.*plugin_paths/s);
      return true;
    });
  });

  it('passes verifyPlugin from the project directory', async () => {
    const report = await verifyPluginPackage('acme_fence', { baseDir: project, kind: 'fencing' });
    assert.equal(report.packageName, 'handyrep-plugin-acme-fence');
    assert.deepEqual(report.methods, ['fence']);
  });

  it("the SDK's verifyPlugin says in one sentence that @handyrep/core is missing where it is not installed", () => {
    // This project has the SDK and the plugin only, as a plugin that forgot its devDependency on the core.
    const script = "import('@handyrep/plugin-sdk/testing').then((kit) => kit.verifyPlugin('acme_fence')).catch((err) => { console.error(err.message); process.exit(3); });";
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' });
    assert.equal(result.status, 3, result.stderr);
    assert.equal(
      result.stderr.trim(),
      "verifyPlugin runs the real HandyRep core loader, and @handyrep/core is not installed here: add it to your plugin's devDependencies (npm install --save-dev @handyrep/core).",
    );
  });
});
