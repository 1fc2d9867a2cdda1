#!/usr/bin/env node
// Keeps the publishing metadata of every workspace package in line with the
// root package.json, the one place the repository address, licence and
// supported Node versions are written: licence, repository (with the
// package's directory), homepage, bugs, engines, publishConfig, the shared
// keywords (a plugin also gets `handyrep-plugin`, the keyword third-party
// plugins use too), `files` (dist and src without tests or test support), and
// a LICENSE file identical to the root one.
//
// Usage: node scripts/package-metadata.mjs [--check]
//   without --check: rewrites what differs; with --check: lists it and exits 1.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspacePackages } from './workspace-packages.mjs';

const root = new URL('..', import.meta.url).pathname;
const check = process.argv.includes('--check');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const repoUrl = rootPkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

const BASE_KEYWORDS = ['handyrep', 'postgresql', 'replication', 'failover'];
/** What `files` ships besides the package's own extras: built code and its sources, never tests or test helpers. */
const SHARED_FILES = ['dist', 'src', '!dist/**/*.test.*', '!src/**/*.test.ts', '!dist/**/test-support', '!src/**/test-support', 'README.md', 'CHANGELOG.md'];
/** Extra entries a package ships (kept from its package.json). */
const EXTRA_FILES = { '@handyrep/core': ['bin', 'web-assets'], '@handyrep/create-plugin': ['bin'], '@handyrep/plugin-sdk': ['images'] };

function expectedFields(pkg, dir) {
  const isPlugin = dir.startsWith('plugins/');
  const keywords = [...BASE_KEYWORDS, ...(isPlugin ? ['handyrep-plugin'] : [])];
  for (const word of pkg.keywords ?? []) if (!keywords.includes(word)) keywords.push(word);
  return {
    license: rootPkg.license,
    repository: { type: 'git', url: rootPkg.repository.url, directory: dir },
    homepage: `${repoUrl}/tree/main/${dir}#readme`,
    bugs: rootPkg.bugs,
    keywords,
    engines: rootPkg.engines,
    publishConfig: { access: 'public' },
    files: [...SHARED_FILES.slice(0, 2), ...(EXTRA_FILES[pkg.name] ?? []), ...SHARED_FILES.slice(2)],
  };
}

const problems = [];
for (const { dir, pkg } of workspacePackages(root)) {
  const file = join(root, dir, 'package.json');
  const wanted = expectedFields(pkg, dir);
  const differing = Object.keys(wanted).filter((key) => JSON.stringify(pkg[key]) !== JSON.stringify(wanted[key]));
  if (differing.length > 0) {
    problems.push(`${dir}/package.json: ${differing.join(', ')}`);
    if (!check) {
      // Known keys in a stable order; anything else keeps its place after them.
      const order = ['name', 'version', 'description', 'keywords', 'license', 'repository', 'homepage', 'bugs', 'type', 'main', 'types', 'exports', 'bin', 'files', 'engines', 'publishConfig'];
      const merged = { ...pkg, ...wanted };
      const sorted = {};
      for (const key of order) if (key in merged) sorted[key] = merged[key];
      for (const key of Object.keys(merged)) if (!(key in sorted)) sorted[key] = merged[key];
      writeFileSync(file, `${JSON.stringify(sorted, null, 2)}\n`);
    }
  }
  let current = '';
  try {
    current = readFileSync(join(root, dir, 'LICENSE'), 'utf8');
  } catch {
    /* missing */
  }
  if (current !== license) {
    problems.push(`${dir}/LICENSE differs from the root LICENSE`);
    if (!check) writeFileSync(join(root, dir, 'LICENSE'), license);
  }
}

if (problems.length === 0) {
  console.log('package metadata: every package is in line with the root package.json');
} else if (check) {
  console.error(`package metadata out of date (run node scripts/package-metadata.mjs):\n  ${problems.join('\n  ')}`);
  process.exit(1);
} else {
  console.log(`package metadata: updated\n  ${problems.join('\n  ')}`);
}
