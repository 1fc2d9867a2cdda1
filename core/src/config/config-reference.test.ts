import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from './config-reference.js';
import { workspacePluginDeclarations } from './workspace-plugins.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('generated config reference', () => {
  it('docs/config-reference.md is current (run `npm run docs:config` after changing a schema)', async () => {
    const expected = renderConfigReference(await workspacePluginDeclarations(root));
    const actual = await readFile(`${root}docs/config-reference.md`, 'utf8');
    assert.equal(actual, expected);
  });

  it('documents every core key with its default', () => {
    const text = renderConfigReference([]);
    assert.match(text, /\| `poll_interval` \| number \(≥ 0\.1\) \| `10` \|/);
    assert.match(text, /\| `ssh_host_key_policy` \| `strict` \\\| `accept-new` \\\| `off` \| `strict` \|/);
    assert.match(text, /\| `hostname` \(required\) \|/);
  });
});
