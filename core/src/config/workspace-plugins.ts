import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PluginDeclaration } from '@handyrep/plugin-sdk';
import { loadPlugin } from '../plugins/plugin-loader.js';

/** The declarations of every plugin package in a workspace's `plugins/` folder, for generated docs. */
export async function workspacePluginDeclarations(workspaceRoot: string): Promise<PluginDeclaration[]> {
  const dir = join(workspaceRoot, 'plugins');
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch {
    return [];
  }
  const declarations: PluginDeclaration[] = [];
  for (const entry of entries) {
    if (!existsSync(join(dir, entry, 'package.json'))) continue;
    const loaded = await loadPlugin(join(dir, entry), { baseDir: workspaceRoot });
    declarations.push(loaded.declaration);
  }
  return declarations;
}
