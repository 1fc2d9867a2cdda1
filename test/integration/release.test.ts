// The release procedure's checks (docs/releasing.md): publishing metadata in
// line with the root package.json, `npm publish --dry-run` clean for every
// package, and changesets configured so that an SDK minor release leaves the
// plugins whose peer range still holds alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  peerDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
  workspaces?: string[];
}

const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, npm_config_update_notifier: 'false' };
delete env['NODE_TEST_CONTEXT'];

function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function packageDirs(root: string): string[] {
  const { workspaces = [] } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  return workspaces
    .flatMap((pattern) => (pattern.endsWith('/*') ? readdirSync(join(root, pattern.slice(0, -2))).map((entry) => `${pattern.slice(0, -2)}/${entry}`) : [pattern]))
    .filter((dir) => existsSync(join(root, dir, 'package.json')));
}

const manifest = (root: string, dir: string): Manifest => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as Manifest;

describe('release checks', () => {
  it('every package carries the metadata and LICENSE of the root package.json (scripts/package-metadata.mjs --check)', () => {
    const result = run(process.execPath, [join(repoRoot, 'scripts/package-metadata.mjs'), '--check'], repoRoot);
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });

  it('npm publish --dry-run is clean for every package: no warning about any package', () => {
    const result = run('npm', ['publish', '--dry-run', '--workspaces'], repoRoot);
    assert.equal(result.status, 0, result.stderr);
    const packages = packageDirs(repoRoot).map((dir) => manifest(repoRoot, dir)).filter((pkg) => !pkg.private);
    for (const pkg of packages) assert.match(result.stdout, new RegExp(`^\\+ ${pkg.name.replace('/', '\\/')}@${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    // The one line that is about this machine, not a package: nobody is logged in to the registry here.
    const notLoggedIn = /^npm warn publish This command requires you to be logged in to \S+ \(dry-run\)$/;
    const warnings = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => /^npm (warn|error|ERR)/i.test(line) && !notLoggedIn.test(line));
    assert.deepEqual(warnings, []);
    console.log(`# npm publish --dry-run: ${packages.length} packages, no warnings`);
  });

  it('an SDK minor release keeps plugins whose peer range still holds at their version (changesets)', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'handyrep-changesets-'));
    try {
      // The workspace's manifests and changeset configuration only: that is all `changeset version` reads.
      writeFileSync(join(copy, 'package.json'), readFileSync(join(repoRoot, 'package.json')));
      const dirs = packageDirs(repoRoot);
      for (const dir of dirs) {
        mkdirSync(join(copy, dir), { recursive: true });
        writeFileSync(join(copy, dir, 'package.json'), readFileSync(join(repoRoot, dir, 'package.json')));
      }
      cpSync(join(repoRoot, '.changeset'), join(copy, '.changeset'), { recursive: true, filter: (path) => !/\.changeset\/(?!config\.json|README\.md)[^/]+\.md$/.test(path) });
      symlinkSync(join(repoRoot, 'node_modules'), join(copy, 'node_modules'));
      const before = new Map(dirs.map((dir) => [dir, manifest(copy, dir)]));
      const sdk = before.get('plugin-sdk');
      assert.ok(sdk);
      writeFileSync(join(copy, '.changeset', 'sdk-minor.md'), '---\n"@handyrep/plugin-sdk": minor\n---\n\nA new helper.\n');
      const result = run(process.execPath, [join(repoRoot, 'node_modules/@changesets/cli/bin.js'), 'version'], copy);
      assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
      const [major, minor] = sdk.version.split('.').map(Number);
      assert.equal(manifest(copy, 'plugin-sdk').version, `${major}.${(minor ?? 0) + 1}.0`);
      const plugins = dirs.filter((dir) => dir.startsWith('plugins/'));
      assert.ok(plugins.length > 20);
      for (const dir of plugins) {
        const was = before.get(dir);
        const now = manifest(copy, dir);
        assert.equal(now.version, was?.version, `${now.name} keeps its version`);
        assert.deepEqual(now.peerDependencies, was?.peerDependencies, `${now.name} keeps its peer range`);
      }
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
