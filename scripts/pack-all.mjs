#!/usr/bin/env node
// `npm run pack`: writes the tarball of every workspace package (built first
// by the npm script) into one folder, tarballs/ unless --destination says
// otherwise, after removing the tarballs an earlier run left there. Build
// output whose source is gone (tsc -b never deletes it) is removed first, so
// no tarball ships it. Prints the tarballs' paths, one a line, last.
//
// Usage: node scripts/pack-all.mjs [--destination DIR]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { workspacePackages } from './workspace-packages.mjs';

const root = new URL('..', import.meta.url).pathname;
const at = process.argv.indexOf('--destination');
const destination = resolve(at > 0 && process.argv[at + 1] ? process.argv[at + 1] : join(root, 'tarballs'));

const OUTPUT = /\.(d\.ts\.map|js\.map|d\.ts|js)$/;
for (const { dir } of workspacePackages(root)) {
  const dist = join(root, dir, 'dist');
  if (!existsSync(dist)) continue;
  for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
    if (!OUTPUT.test(file) || !statSync(join(dist, file)).isFile()) continue;
    const source = join(root, dir, 'src', file.replace(OUTPUT, '.ts'));
    if (!existsSync(source)) {
      console.error(`removing ${dir}/dist/${file}: its source is gone`);
      rmSync(join(dist, file));
    }
  }
}

mkdirSync(destination, { recursive: true });
for (const entry of readdirSync(destination)) {
  if (entry.endsWith('.tgz')) rmSync(join(destination, entry));
}
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--workspaces', '--pack-destination', destination, '--json', '--silent'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }),
);
console.error(`packed ${packed.length} packages into ${destination}`);
for (const entry of packed) console.log(join(destination, entry.filename));
