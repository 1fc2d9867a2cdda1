import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderPluginCatalogue, workspacePlugins } from './plugin-catalogue.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('generated plugin catalogue', () => {
  it('docs/plugins.md is current (run `npm run docs:plugins` after changing a plugin)', async () => {
    const expected = renderPluginCatalogue(await workspacePlugins(root));
    const actual = await readFile(`${root}docs/plugins.md`, 'utf8');
    assert.equal(actual, expected);
  });

  it('lists every bundled plugin with its package, version, kind, description and config keys', async () => {
    const plugins = await workspacePlugins(root);
    assert.equal(plugins.length, (await readdir(`${root}plugins`, { withFileTypes: true })).filter((entry) => entry.isDirectory()).length);
    const text = renderPluginCatalogue(plugins);
    const log = plugins.find((plugin) => plugin.declaration.name === 'alert_log');
    assert.ok(log);
    assert.match(text, new RegExp(`\\| \`alert_log\` \\| \`@handyrep/plugin-alert-log\` \\| ${log.packageVersion?.replace(/\./g, '\\.')} \\| \`alert\` \\| Writes alerts to the HandyRep log[^|]*\\| \`min_severity\` \\|`));
    assert.match(text, /keywords:handyrep-plugin/);
  });
});
