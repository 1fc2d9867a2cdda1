import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compareServerNames } from '@handyrep/plugin-sdk';
import type { PluginKind } from '@handyrep/plugin-sdk';
import { loadPlugin } from './plugin-loader.js';
import type { LoadedPlugin } from './plugin-loader.js';

/** Where an operator names a plugin of each kind. */
const KIND_CONFIG_KEYS: Readonly<Record<PluginKind, string>> = {
  poll: '`[failover] poll_method`',
  control: '`restart_method` (per server)',
  promotion: '`promotion_method` (per server)',
  clone: '`clone_method` (per server)',
  replication_status: '`[failover] replication_status_method`',
  replica_selection: '`[failover] selection_method`',
  connection_failover: '`[failover] connection_failover_method`',
  archive: '`[archive] archive_script_method`',
  archive_cleanup: '`[archive] archive_delete_method`',
  alert: '`[handyrep] push_alert_method`',
  authentication: '`[handyrep] authentication_method`',
  hr_master: '`[handyrep] master_check_method`',
  fencing: '`[failover] fencing_method`',
};

/** Every plugin package in a workspace's `plugins/` folder, loaded as the core loads them, by config name. */
export async function workspacePlugins(workspaceRoot: string): Promise<LoadedPlugin[]> {
  const dir = join(workspaceRoot, 'plugins');
  const entries = existsSync(dir) ? (await readdir(dir)).sort() : [];
  const loaded: LoadedPlugin[] = [];
  for (const entry of entries) {
    if (!existsSync(join(dir, entry, 'package.json'))) continue;
    loaded.push(await loadPlugin(join(dir, entry), { baseDir: workspaceRoot }));
  }
  return loaded.sort((a, b) => compareServerNames(a.declaration.name, b.declaration.name));
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function keys(schema: { properties?: Record<string, unknown> } | undefined): string {
  const names = Object.keys(schema?.properties ?? {});
  return names.length > 0 ? names.map((name) => `\`${name}\``).join(', ') : '—';
}

/** docs/plugins.md: every bundled plugin with its kind, version, one-line description and config keys, and how third-party plugins are named and found. */
export function renderPluginCatalogue(plugins: readonly LoadedPlugin[]): string {
  const lines = [
    '# Plugins',
    '',
    '<!-- Generated from the plugin packages by `npm run docs:plugins`; a unit test keeps it current. -->',
    '',
    'Everything in HandyRep that knows a tool is a plugin: an npm package that declares one plugin.',
    '`handyrep.conf` names it by its config name in the key of its kind; its own settings go in',
    '`[plugins.<name>]` (every key, type and default: `config-reference.md`); `handyrep check-config`',
    'lists the plugins a configuration loads, with their versions.',
    '',
    '## Bundled plugins',
    '',
    `${plugins.length} plugins, each its own package, published with HandyRep (\`npm install <package>\`).`,
    '',
    '| plugin | package | version | kind | what it does | `[plugins.<name>]` keys | server keys |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const { declaration, packageName, packageVersion } of plugins) {
    lines.push(
      `| \`${declaration.name}\` | \`${packageName}\` | ${packageVersion ?? '—'} | \`${declaration.kind}\` | ${cell(declaration.description)} | ${keys(declaration.configSchema)} | ${keys(declaration.serverSchema)} |`,
    );
  }
  lines.push('', '## By kind', '', '| kind | named by | bundled plugins |', '| --- | --- | --- |');
  for (const [kind, key] of Object.entries(KIND_CONFIG_KEYS) as [PluginKind, string][]) {
    const ofKind = plugins.filter((plugin) => plugin.declaration.kind === kind).map((plugin) => `\`${plugin.declaration.name}\``);
    lines.push(`| \`${kind}\` | ${key} | ${ofKind.length > 0 ? ofKind.join(', ') : '—'} |`);
  }
  lines.push(
    '',
    '## Third-party plugins',
    '',
    'Anyone can publish a plugin; `npm init @handyrep/plugin <name> -- --kind <kind>` starts one',
    '(`writing-a-plugin.md`). How HandyRep finds it:',
    '',
    '- **Name.** A config name `acme_fence` is looked for as `@handyrep/plugin-acme-fence` (HandyRep\'s',
    '  own), then `handyrep-plugin-acme-fence`. A scoped package (`@acme/handyrep-fence`) or a path',
    '  (`./plugins/fence.js`, relative to the config file) is written in the config as it is.',
    '- **Where.** In HandyRep\'s own installation (install the plugin next to `@handyrep/core`), then in',
    '  the directories of `[handyrep] plugin_paths`; nowhere else.',
    '- **Discovery.** Third-party plugins carry the npm keyword `handyrep-plugin`, as the bundled ones do:',
    '  `npm search keywords:handyrep-plugin` lists them.',
    '- **Compatibility.** A plugin names `@handyrep/plugin-sdk` as a peer dependency (`^1.0.0`); the core',
    '  refuses a plugin built for another plugin API version (`HR_PLUGIN_API_VERSION`). See',
    '  `plugin-sdk-compatibility.md`.',
    '',
  );
  return lines.join('\n');
}
