#!/usr/bin/env node
// Runs the compiled node:test files of one suite. Unit suites run in parallel;
// integration suites one file at a time, because each builds real PostgreSQL
// clusters and the machine has two cores.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const suite = process.argv[2] ?? 'unit';

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry === 'fixtures') continue;
    if (statSync(path).isDirectory()) found.push(...testFiles(path));
    else if (entry.endsWith('.test.js')) found.push(path);
  }
  return found.sort();
}

function packageDists() {
  const dists = [join(root, 'plugin-sdk/dist'), join(root, 'core/dist')];
  const pluginsDir = join(root, 'plugins');
  if (existsSync(pluginsDir)) {
    for (const name of readdirSync(pluginsDir).sort()) dists.push(join(pluginsDir, name, 'dist'));
  }
  return dists;
}

const suites = {
  unit: { dirs: packageDists(), concurrency: 2 },
  integration: { dirs: [join(root, 'test/dist/harness'), join(root, 'test/dist/integration')], concurrency: 1 },
};

const chosen = suites[suite];
if (!chosen) {
  console.error(`unknown suite '${suite}' (known: ${Object.keys(suites).join(', ')})`);
  process.exit(2);
}
const files = chosen.dirs.flatMap(testFiles);
if (files.length === 0) {
  console.error(`no test files found for suite '${suite}'; did the build run?`);
  process.exit(1);
}
console.log(`# ${suite}: ${files.length} test files`);
for (const file of files) console.log(`#   ${relative(root, file)}`);
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${chosen.concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
