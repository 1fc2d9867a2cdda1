// docs/writing-a-plugin.md, followed to the letter: its scaffold command is
// run with this repository's @handyrep/create-plugin, every `file=` block
// replaces the generated file, the package is built and its tests run with its
// own `npm test`, the `generated=` block is checked against what the scaffold
// wrote, and the configuration block is loaded by the real core. The HandyRep
// packages come from this workspace (its node_modules), standing in for the
// doc's `npm install`; the packaging test covers installing from tarballs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@handyrep/core';
import { postgresContainerProblem } from '@handyrep/plugin-sdk/testing/postgres';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Block {
  lang: string;
  attributes: Record<string, string>;
  body: string;
}

function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)].map((match) => ({
    lang: match[1] ?? '',
    attributes: Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)=(\S+)/g)].map((a) => [a[1] ?? '', a[2] ?? ''])),
    body: match[3] ?? '',
  }));
}

/** True when `actual` holds every key of `expected` with the same value (objects compared key by key, arrays whole). */
function holds(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) return JSON.stringify(actual) === JSON.stringify(expected);
  if (typeof actual !== 'object' || actual === null) return false;
  return Object.entries(expected).every(([key, value]) => holds((actual as Record<string, unknown>)[key], value));
}

const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` };
delete env['NODE_TEST_CONTEXT'];

function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 180_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

describe('docs/writing-a-plugin.md, followed step by step', () => {
  let work = '';
  let pluginDir = '';
  let doc: Block[] = [];

  before(async () => {
    doc = blocks(await readFile(join(repoRoot, 'docs/writing-a-plugin.md'), 'utf8'));
    work = await mkdtemp(join(tmpdir(), 'handyrep-doc-plugin-'));
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('scaffolds with the command the doc starts from', async () => {
    const steps = doc.find((block) => block.lang === 'sh')?.body.trim().split('\n') ?? [];
    const init = /^npm init @handyrep\/plugin (.*)$/.exec(steps[0] ?? '');
    assert.ok(init?.[1], `the doc starts with npm init @handyrep/plugin (got ${steps[0]})`);
    // npm init passes what follows `--` to the create package's command.
    const args = (init[1] ?? '').split(/\s+/).filter((arg) => arg !== '--');
    const created = run(process.execPath, [join(repoRoot, 'create-plugin/bin/create-plugin.js'), ...args], work);
    assert.equal(created.status, 0, created.stderr);
    assert.deepEqual(steps.slice(1), ['cd handyrep-plugin-acme-fence', 'npm install', 'npm test']);
    pluginDir = join(work, 'handyrep-plugin-acme-fence');
    await symlink(join(repoRoot, 'node_modules'), join(pluginDir, 'node_modules'));
  });

  it('shows the package.json the scaffold writes', async () => {
    const shown = doc.filter((block) => block.attributes['generated'] === 'package.json');
    assert.equal(shown.length, 1);
    const generated = JSON.parse(await readFile(join(pluginDir, 'package.json'), 'utf8')) as unknown;
    assert.ok(holds(generated, JSON.parse(shown[0]?.body ?? '{}')), `the doc's package.json is not what the scaffold writes:\n${JSON.stringify(generated, null, 2)}`);
  });

  it("builds and passes its tests with every file the doc shows (npm test)", async () => {
    const files = doc.filter((block) => block.lang === 'ts' && block.attributes['file']);
    assert.deepEqual(files.map((block) => block.attributes['file']), ['src/config.ts', 'src/plugin.ts', 'src/plugin.test.ts', 'src/real-host.test.ts']);
    for (const block of files) await writeFile(join(pluginDir, block.attributes['file'] ?? ''), block.body);
    const tested = run('npm', ['test'], pluginDir);
    assert.equal(tested.status, 0, `${tested.stdout}\n${tested.stderr}`);
    // The real-PostgreSQL test runs when an engine answers (npm test sets HANDYREP_REQUIRE_DOCKER, so it must).
    const engine = (await postgresContainerProblem()) === undefined;
    assert.match(tested.stdout, engine ? /pass 5/ : /pass 4/);
    assert.match(tested.stdout, engine ? /skipped 0/ : /skipped 1/);
    assert.match(tested.stdout, /fail 0/);
  });

  it("the doc's configuration loads the plugin through the real core, with its section validated", async () => {
    const ini = doc.find((block) => block.lang === 'ini' && block.attributes['file'] === 'handyrep.conf');
    assert.ok(ini);
    const etc = join(work, 'etc');
    // Packed, and installed with the SDK it peers with into a plugin_paths directory, as an operator would
    // without touching HandyRep's own installation.
    await mkdir(join(etc, 'plugins'), { recursive: true });
    const tarballs = [pluginDir, join(repoRoot, 'plugin-sdk')].map((dir) => {
      const packed = run('npm', ['pack', dir, '--pack-destination', work, '--silent'], work);
      assert.equal(packed.status, 0, packed.stderr);
      return join(work, packed.stdout.trim().split('\n').pop() ?? '');
    });
    const installed = run('npm', ['install', '--prefix', join(etc, 'plugins'), '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], work);
    assert.equal(installed.status, 0, installed.stderr);
    const file = join(etc, 'handyrep.conf');
    await writeFile(file, ['[handyrep]', 'plugin_paths = plugins', ini.body, '[servers.db1]', 'hostname = 127.0.0.1', 'role = master', ''].join('\n'), { mode: 0o600 });
    const loaded = await loadConfig(file);
    assert.equal(loaded.plugins.get('acme_fence')?.packageName, 'handyrep-plugin-acme-fence');
    assert.deepEqual(loaded.config.plugins['acme_fence'], { power_command: '/usr/local/bin/acme-power-off', attempts: 3, timeout_seconds: 10 });
  });
});
