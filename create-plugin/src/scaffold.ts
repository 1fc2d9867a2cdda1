import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PLUGIN_KINDS } from '@handyrep/plugin-sdk';
import type { PluginKind } from '@handyrep/plugin-sdk';
import { pluginFiles } from './plugin-files.js';
import type { ScaffoldVersions } from './plugin-files.js';
import { pluginNames } from './plugin-names.js';

/** What to scaffold. */
export interface ScaffoldOptions {
  /** The plugin's name as typed (`acme_fence`, `acme-fence` or `handyrep-plugin-acme-fence`). */
  name: string;
  /** Its kind. */
  kind: string;
  /** One line saying what it does (default: "A HandyRep <kind> plugin."). */
  description?: string;
  /** Folder to create (default: the package name, in the working directory). */
  directory?: string;
  /** Dependency ranges (default: those this package was built with). */
  versions?: ScaffoldVersions;
}

/** What was written. */
export interface ScaffoldResult {
  /** The new package's folder. */
  directory: string;
  /** Its npm package name. */
  packageName: string;
  /** The name operators write in the config. */
  configName: string;
  /** The files written, relative to `directory`. */
  files: string[];
}

interface OwnManifest {
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/**
 * The ranges this package was built and tested with: its own devDependencies
 * and its SDK dependency (the release tooling keeps the HandyRep ones current) and engines.
 */
export function ownVersions(): ScaffoldVersions {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as OwnManifest;
  const dev = { ...manifest.dependencies, ...manifest.devDependencies };
  const need = (name: string): string => {
    const range = dev[name];
    if (range === undefined) throw new Error(`@handyrep/create-plugin's package.json does not name ${name}`);
    return range;
  };
  return {
    sdk: need('@handyrep/plugin-sdk'),
    core: need('@handyrep/core'),
    typescript: need('typescript'),
    typesNode: need('@types/node'),
    node: manifest.engines?.node ?? '>=20',
  };
}

function isKind(kind: string): kind is PluginKind {
  return (PLUGIN_KINDS as readonly string[]).includes(kind);
}

/** Writes a new plugin package; refuses an unknown kind or a folder that is not empty. */
export async function scaffoldPlugin(options: ScaffoldOptions): Promise<ScaffoldResult> {
  if (!isKind(options.kind)) {
    throw new Error(`unknown kind '${options.kind}': one of ${PLUGIN_KINDS.join(', ')}`);
  }
  const names = pluginNames(options.name);
  const directory = resolve(options.directory ?? names.packageName);
  if (existsSync(directory) && readdirSync(directory).length > 0) {
    throw new Error(`${directory} exists and is not empty: choose another name or folder`);
  }
  const files = pluginFiles({
    names,
    kind: options.kind,
    description: options.description ?? `A HandyRep ${options.kind} plugin.`,
    versions: options.versions ?? ownVersions(),
  });
  for (const [path, content] of Object.entries(files)) {
    const target = join(directory, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content, { flag: 'wx' });
  }
  return { directory, packageName: names.packageName, configName: names.configName, files: Object.keys(files) };
}
