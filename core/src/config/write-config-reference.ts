// Writes (or, with --check, verifies) docs/config-reference.md from the schemas.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from './config-reference.js';
import { workspacePluginDeclarations } from './workspace-plugins.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const target = process.argv.find((arg, index) => index > 1 && !arg.startsWith('--')) ?? `${root}docs/config-reference.md`;
const text = renderConfigReference(await workspacePluginDeclarations(root));
if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== text) {
    console.error(`${target} is out of date: run npm run docs:config`);
    process.exit(1);
  }
  console.log(`${target} is current`);
} else {
  await writeFile(target, text);
  console.log(`wrote ${target}`);
}
