// The packages as a user gets them: every workspace package packed, the
// tarballs installed with --engine-strict into a project outside the
// workspace, HandyRep opened there on handyrep.conf.example, check-config
// run, and a strict TypeScript file compiled against the installed types.
// Then a plugin author's path: `npm init @handyrep/plugin`, build and test,
// pack, install into that project, name it in the config, and the core calls
// it. npm runs with the Node.js running this file, so `npm test` runs it under
// each Node version it tests (see test/scripts/run-tests.sh).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const semver = createRequire(import.meta.url)('semver') as { subset(sub: string, sup: string): boolean };

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  engines?: { node?: string };
  keywords?: string[];
  repository?: { url?: string; directory?: string };
  homepage?: string;
  bugs?: { url?: string };
  license?: string;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Manifest & { workspaces: string[] };
const supportedNode = rootManifest.engines?.node ?? '';

/** The workspace's packages and where they live. */
function workspacePackages(): { dir: string; manifest: Manifest }[] {
  const dirs = rootManifest.workspaces.flatMap((pattern) =>
    pattern.endsWith('/*') ? readdirSync(join(repoRoot, pattern.slice(0, -2))).map((entry) => `${pattern.slice(0, -2)}/${entry}`) : [pattern],
  );
  return dirs
    .filter((dir) => existsSync(join(repoRoot, dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as Manifest }));
}

// npm is a Node script: with this file's node first in PATH it runs (and checks engines) under the same Node version.
const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, npm_config_update_notifier: 'false' };
delete env['NODE_TEST_CONTEXT'];
for (const key of Object.keys(env)) if (key.startsWith('HANDYREP_')) delete env[key];

function run(command: string, args: string[], cwd: string, timeoutMs = 300_000): Run {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

function ok(result: Run, what: string): Run {
  assert.equal(result.status, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** `npm install` into `cwd`, from the cache when it can (CI's `npm ci` filled it), with engines enforced. */
function npmInstall(cwd: string, specs: string[], extra: string[] = []): Run {
  return ok(run('npm', ['install', '--engine-strict', '--prefer-offline', '--no-audit', '--no-fund', ...extra, ...specs], cwd), `npm install in ${cwd}`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((path) => statSync(join(dir, path)).isFile());
}

describe(`packages installed from their tarballs (Node ${process.version})`, () => {
  let work = '';
  let consumer = '';
  let tarballs: string[] = [];
  let install: Run = { status: null, stdout: '', stderr: '' };
  const packages = workspacePackages().filter((p) => !p.manifest.private);
  const tarballOf = (name: string): string => {
    const found = tarballs.find((path) => basename(path).startsWith(`${name.replace('@', '').replace('/', '-')}-`));
    assert.ok(found, `no tarball for ${name}`);
    return found;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'handyrep-packages-'));
    assert.ok(relative(repoRoot, work).startsWith('..'), 'the consumer project is outside the workspace');
    // What `npm run pack` does after its build.
    const packed = ok(run(process.execPath, [join(repoRoot, 'scripts/pack-all.mjs'), '--destination', join(work, 'tarballs')], repoRoot), 'pack-all');
    tarballs = packed.stdout.trim().split('\n');
    consumer = join(work, 'consumer');
    await mkdir(consumer);
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'handyrep-consumer', private: true, type: 'module' }, null, 2));
    install = npmInstall(consumer, tarballs);
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packs every workspace package into one folder', () => {
    assert.equal(tarballs.length, packages.length);
    for (const { manifest } of packages) assert.ok(tarballOf(manifest.name).endsWith(`-${manifest.version}.tgz`), manifest.name);
  });

  it(`installs with --engine-strict, and every package in the tree accepts the Node versions HandyRep declares (${supportedNode})`, () => {
    assert.doesNotMatch(`${install.stdout}${install.stderr}`, /EBADENGINE/);
    const nodeModules = join(consumer, 'node_modules');
    const narrower: string[] = [];
    for (const path of filesUnder(nodeModules).filter((file) => basename(file) === 'package.json')) {
      let manifest: Manifest;
      try {
        manifest = JSON.parse(readFileSync(join(nodeModules, path), 'utf8')) as Manifest;
      } catch {
        continue;
      }
      const wanted = manifest.engines?.node;
      if (!manifest.name || !manifest.version || typeof wanted !== 'string') continue;
      if (!semver.subset(supportedNode, wanted)) narrower.push(`${manifest.name}@${manifest.version} needs node ${wanted}`);
    }
    assert.deepEqual(narrower, []);
  });

  it('ships a LICENSE, complete metadata, its CHANGELOG, source maps with their sources, and no tests or test helpers', () => {
    const license = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');
    for (const { dir, manifest } of packages) {
      const installed = join(consumer, 'node_modules', manifest.name);
      const shipped = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Manifest;
      assert.equal(readFileSync(join(installed, 'LICENSE'), 'utf8'), license, `${manifest.name} LICENSE`);
      assert.ok(existsSync(join(installed, 'CHANGELOG.md')), `${manifest.name} CHANGELOG.md`);
      assert.equal(shipped.license, 'BSD-3-Clause');
      assert.equal(shipped.repository?.directory, dir, `${manifest.name} repository.directory`);
      assert.ok(shipped.homepage && shipped.bugs?.url && shipped.repository?.url, `${manifest.name} homepage, bugs, repository`);
      assert.equal(shipped.engines?.node, supportedNode, `${manifest.name} engines`);
      assert.ok(shipped.keywords?.includes('handyrep'), `${manifest.name} keywords`);
      if (dir.startsWith('plugins/')) assert.ok(shipped.keywords?.includes('handyrep-plugin'), `${manifest.name} has the handyrep-plugin keyword`);
      const files = filesUnder(installed);
      assert.deepEqual(files.filter((file) => /(^|\/)test-support(\/|$)|\.test\.|(^|\/)test-fixtures\//.test(file)), [], `${manifest.name} ships tests or test helpers`);
      for (const map of files.filter((file) => file.endsWith('.map'))) {
        const parsed = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[]; sourcesContent?: unknown[] };
        if (Array.isArray(parsed.sourcesContent) && parsed.sourcesContent.length === parsed.sources.length) continue;
        for (const source of parsed.sources) {
          assert.ok(existsSync(resolve(installed, dirname(map), source)), `${manifest.name}/${map} points at ${source}, which the package does not ship`);
        }
      }
    }
  });

  it('HandyRep.open reads handyrep.conf.example and getStatus answers the spec dictionary', async () => {
    await writeFile(join(consumer, 'handyrep.conf.example'), await readFile(join(repoRoot, 'handyrep.conf.example')));
    // It holds passwords: the owner's only, as HandyRep asks of a real configuration.
    chmodSync(join(consumer, 'handyrep.conf.example'), 0o600);
    await writeFile(
      join(consumer, 'status.mjs'),
      [
        "import { HandyRep } from '@handyrep/core';",
        "const hr = await HandyRep.open('handyrep.conf.example');",
        'const status = await hr.getStatus();',
        'await hr.close();',
        'console.log(JSON.stringify(status));',
      ].join('\n'),
    );
    const result = ok(run(process.execPath, ['status.mjs'], consumer), 'status.mjs');
    const status = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { cluster: { status: string; acting_instance: unknown }; servers: Record<string, unknown> };
    assert.equal(typeof status.cluster.status, 'string');
    assert.deepEqual(Object.keys(status.servers), ['pg1', 'pg2', 'pg3', 'bouncer1']);
  });

  it('check-config (the installed handyrep command) lists every plugin the config names, with its version', () => {
    const result = ok(run(join(consumer, 'node_modules/.bin/handyrep'), ['--config', 'handyrep.conf.example', '--json', 'check-config'], consumer), 'check-config');
    const answer = JSON.parse(result.stdout) as { result: string; plugins: string[] };
    assert.equal(answer.result, 'SUCCESS');
    const versions = new Map(packages.map((p) => [p.manifest.name, p.manifest.version]));
    const config = readFileSync(join(repoRoot, 'handyrep.conf.example'), 'utf8');
    const named = new Set([...config.matchAll(/^\s*(?:\w+_method|restart_method|promotion_method|clone_method)\s*=\s*(\w+)\s*$/gm)].map((m) => m[1]));
    assert.ok(named.size >= 8, `the example names its plugins (${[...named].join(', ')})`);
    for (const line of answer.plugins) {
      const match = /^(\w+) \((@handyrep\/plugin-[\w-]+)@([\w.-]+)\)$/.exec(line);
      assert.ok(match, `check-config line ${line}`);
      assert.equal(match[3], versions.get(match[2] ?? ''), line);
      named.delete(match[1] ?? '');
    }
    assert.deepEqual([...named], [], 'every plugin the config names is listed');
  });

  it('a strict TypeScript file reads status.cluster.status without narrowing, and needs no @types/node of its own', async () => {
    await writeFile(
      join(consumer, 'status-reader.ts'),
      `import { ConfigError, ErrorCodes, HandyRep } from '@handyrep/core';
import type { StatusDictionary } from '@handyrep/core';

export async function clusterStatus(file: string): Promise<string> {
  try {
    const hr = await HandyRep.open(file);
    try {
      const status = await hr.getStatus();
      const typed: StatusDictionary = status;
      const cluster = await hr.getClusterStatus();
      const servers = await hr.getServerInfo();
      return \`\${status.cluster.status} (\${cluster.status_no}, \${typed.cluster.acting_instance ?? 'no instance'}), \${Object.keys(servers).length} servers\`;
    } finally {
      await hr.close();
    }
  } catch (err) {
    if (err instanceof ConfigError && err.code === ErrorCodes.CONFIG_INVALID) return err.problems.map((p) => \`[\${p.section}] \${p.key}: \${p.message}\`).join('; ');
    throw err;
  }
}
`,
    );
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: [], strict: true, skipLibCheck: false, noEmit: true },
        files: ['status-reader.ts'],
      }),
    );
    const consumerManifest = JSON.parse(await readFile(join(consumer, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    assert.equal({ ...consumerManifest.dependencies, ...consumerManifest.devDependencies }['@types/node'], undefined, 'the consumer does not install @types/node');
    ok(run(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], consumer), 'tsc on the consumer file');
  });

  describe('a plugin made with npm init @handyrep/plugin', () => {
    let pluginDir = '';

    it('is generated, installs its devDependencies, builds and passes its own tests', async () => {
      pluginDir = join(work, 'hello-plugin');
      // npm init @handyrep/plugin runs @handyrep/create-plugin; installed in the consumer, npm takes it from there.
      const created = ok(run('npm', ['init', '--yes', '@handyrep/plugin', 'hello', '--', '--kind', 'poll', '--directory', pluginDir], consumer), 'npm init @handyrep/plugin');
      assert.match(created.stdout, /Created handyrep-plugin-hello/);
      // Until the packages are on the registry the author installs SDK and core from the tarballs (docs/writing-a-plugin.md).
      npmInstall(pluginDir, [tarballOf('@handyrep/plugin-sdk'), tarballOf('@handyrep/core')], ['--no-save']);
      const tested = ok(run('npm', ['test'], pluginDir), 'npm test in the new plugin');
      assert.match(tested.stdout, /pass 4/);
      assert.match(tested.stdout, /fail 0/);
    });

    it('packs, installs where HandyRep is, and the core calls it when the config names it', async () => {
      assert.ok(pluginDir, 'the plugin was generated');
      const packed = ok(run('npm', ['pack', '--silent'], pluginDir), 'npm pack of the plugin');
      const tarball = join(pluginDir, packed.stdout.trim().split('\n').pop() ?? '');
      npmInstall(consumer, [tarball]);
      const example = await readFile(join(repoRoot, 'handyrep.conf.example'), 'utf8');
      const config = example
        .replace(/^poll_method = poll_isready$/m, 'poll_method = hello')
        .replace(/^\[plugins\.poll_isready\]\n(?:;.*\n)*timeout_ms = \d+$/m, '[plugins.hello]\ntimeout_seconds = 3');
      assert.notEqual(config, example);
      await writeFile(join(consumer, 'hello.conf'), config, { mode: 0o600 });
      const checked = JSON.parse(ok(run(join(consumer, 'node_modules/.bin/handyrep'), ['--config', 'hello.conf', '--json', 'check-config'], consumer), 'check-config').stdout) as { plugins: string[] };
      assert.ok(checked.plugins.includes('hello (handyrep-plugin-hello@0.1.0)'), checked.plugins.join(', '));
      await writeFile(
        join(consumer, 'poll.mjs'),
        [
          "import { HandyRep } from '@handyrep/core';",
          "const hr = await HandyRep.open('hello.conf');",
          "const answer = await hr.poll('pg1');",
          'await hr.close();',
          'console.log(JSON.stringify(answer));',
        ].join('\n'),
      );
      const polled = ok(run(process.execPath, ['poll.mjs'], consumer), 'poll.mjs');
      const answer = JSON.parse(polled.stdout.trim().split('\n').pop() ?? '{}') as { result: string; details: string };
      assert.equal(answer.result, 'FAIL');
      assert.match(answer.details, /hello: poll\(pg1\) is not written yet/);
    });
  });
});
