import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pluginCandidates } from './plugin-name.js';

function nearestPackage(start: string): { dir: string; name: unknown } | undefined {
  let dir = start;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      return { dir, name: pkg.name };
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
  }
}

/**
 * The directory of the package `dir` belongs to when `name` (a config or
 * package name) names that very package, else undefined. A plugin's own tests
 * run inside it, where its package is not installed in any node_modules.
 */
export function ownPackageDir(name: string, dir: string): string | undefined {
  const own = nearestPackage(dir);
  if (own === undefined || typeof own.name !== 'string') return undefined;
  const named = pluginCandidates(name, dir).some((candidate) => !candidate.isPath && candidate.specifier === own.name);
  return named ? own.dir : undefined;
}
