import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configNameOfPackage } from './plugin-name.js';

function nodeModulesUpFrom(start: string): string[] {
  const dirs: string[] = [];
  let current = start;
  for (;;) {
    dirs.push(join(current, 'node_modules'));
    const parent = dirname(current);
    if (parent === current) return dirs;
    current = parent;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Config names of the plugin packages visible from `dirs` (and their parents,
 * as Node resolves HandyRep's own packages) and in the `node_modules`
 * directories `exactly` (not their parents), for "what is installed" in loader errors.
 */
export function installedPluginNames(dirs: readonly string[], exactly: readonly string[] = []): string[] {
  const names = new Set<string>();
  for (const nodeModules of new Set([...dirs.flatMap(nodeModulesUpFrom), ...exactly])) {
    for (const entry of safeList(join(nodeModules, '@handyrep'))) {
      const name = configNameOfPackage(`@handyrep/${entry}`);
      if (name) names.add(name);
    }
    for (const entry of safeList(nodeModules)) {
      const name = configNameOfPackage(entry);
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}
