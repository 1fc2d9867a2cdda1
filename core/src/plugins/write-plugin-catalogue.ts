// Writes (or, with --check, verifies) docs/plugins.md from the plugin packages.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderPluginCatalogue, workspacePlugins } from './plugin-catalogue.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const target = process.argv.find((arg, index) => index > 1 && !arg.startsWith('--')) ?? `${root}docs/plugins.md`;
const text = renderPluginCatalogue(await workspacePlugins(root));
if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== text) {
    console.error(`${target} is out of date: run npm run docs:plugins`);
    process.exit(1);
  }
  console.log(`${target} is current`);
} else {
  await writeFile(target, text);
  console.log(`wrote ${target}`);
}
