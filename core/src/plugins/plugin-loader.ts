import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import {
  errorMessage,
  ErrorCodes,
  isPluginDeclaration,
  PLUGIN_API_VERSION,
  PluginLoadError,
} from '@handyrep/plugin-sdk';
import type { PluginDeclaration, PluginKind } from '@handyrep/plugin-sdk';
import { installedPluginNames } from './installed-plugins.js';
import { pluginCandidates } from './plugin-name.js';

/** A plugin declaration together with where it came from. */
export interface LoadedPlugin {
  /** The name as written in the config. */
  configName: string;
  /** The declaration the package exports. */
  declaration: PluginDeclaration;
  /** The package (or path) it was loaded from. */
  packageName: string;
  /** The package's version, when it has a package.json. */
  packageVersion: string | undefined;
  /** The resolved entry file. */
  entryPath: string;
}

/** Where and how to load a plugin. */
export interface LoadPluginOptions {
  /** Directory plugin paths (`./x`) are resolved from (the config file's directory); never searched for packages. */
  baseDir: string;
  /**
   * Absolute directories holding plugin packages (`[handyrep] plugin_paths`):
   * each one's `node_modules` (or the directory itself when it is a
   * `node_modules`), searched after HandyRep's own installation. Their parents are not searched.
   */
  pluginPaths?: readonly string[];
  /** The kind the config key expects; a different declared kind is an error. */
  expectedKind?: PluginKind;
  /** The config key that named the plugin, for error messages. */
  configKey?: string;
}

const coreDir = dirname(new URL(import.meta.url).pathname);

/** The node_modules directory a plugin_paths entry stands for. */
function packagesDir(pluginPath: string): string {
  return basename(pluginPath) === 'node_modules' ? pluginPath : join(pluginPath, 'node_modules');
}

function tryResolve(from: string, specifier: string): string | undefined {
  try {
    return createRequire(from).resolve(specifier);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    return undefined;
  }
}

/**
 * A package is looked for in HandyRep's own installation (where its own
 * dependencies come from), then in each plugin_paths directory, and only
 * there: Node would go on up the parents of a directory, where anyone who can
 * write a `node_modules` could shadow a plugin, so a hit outside it is ignored.
 */
function resolvePackage(specifier: string, pluginPaths: readonly string[]): string | undefined {
  const own = tryResolve(join(coreDir, 'index.js'), specifier);
  if (own) return own;
  for (const pluginPath of pluginPaths) {
    const packages = packagesDir(pluginPath);
    const found = tryResolve(join(dirname(packages), 'handyrep-plugin-resolution.js'), specifier);
    if (found && found.startsWith(`${packages}${sep}`)) return found;
  }
  return undefined;
}

function resolvePath(path: string): string | undefined {
  return tryResolve(join(coreDir, 'index.js'), path);
}

function packageInfo(entryPath: string): { name: string | undefined; version: string | undefined } {
  let dir = dirname(entryPath);
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      return { name: pkg.name, version: pkg.version };
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return { name: undefined, version: undefined };
      dir = parent;
    }
  }
}

function where(options: Pick<LoadPluginOptions, 'configKey'>): string {
  return options.configKey ? ` (named by ${options.configKey})` : '';
}

/**
 * Resolves, imports and checks one plugin. Every failure is a PluginLoadError
 * naming the plugin, what was looked for and, when nothing was found, the
 * plugins that are installed.
 */
export async function loadPlugin(name: string, options: LoadPluginOptions): Promise<LoadedPlugin> {
  const candidates = pluginCandidates(name, options.baseDir);
  const lookedFor = candidates.map((candidate) => candidate.specifier).join(' or ');
  const pluginPaths = options.pluginPaths ?? [];
  let entryPath: string | undefined;
  for (const candidate of candidates) {
    entryPath = candidate.isPath ? resolvePath(candidate.specifier) : resolvePackage(candidate.specifier, pluginPaths);
    if (entryPath) break;
  }
  if (!entryPath) {
    const installed = installedPluginNames([coreDir], pluginPaths.map(packagesDir));
    throw new PluginLoadError(
      ErrorCodes.PLUGIN_NOT_FOUND,
      name,
      lookedFor,
      `plugin '${name}'${where(options)} not found: looked for ${lookedFor}. ` +
        `Installed plugins: ${installed.length > 0 ? installed.join(', ') : 'none'}. Did you forget to install it? ` +
        '(Packages are looked for in HandyRep\'s own installation and in [handyrep] plugin_paths only.)',
    );
  }

  let exported: Record<string, unknown>;
  try {
    exported = (await import(pathToFileURL(entryPath).href)) as Record<string, unknown>;
  } catch (err) {
    throw new PluginLoadError(
      ErrorCodes.PLUGIN_IMPORT_FAILED,
      name,
      lookedFor,
      `plugin '${name}'${where(options)}: importing ${entryPath} failed: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  const declaration = exported['plugin'];
  if (declaration === undefined) {
    throw new PluginLoadError(
      ErrorCodes.PLUGIN_NO_EXPORT,
      name,
      lookedFor,
      `plugin '${name}'${where(options)}: ${entryPath} has no export named 'plugin' ` +
        `(a plugin package exports \`export const plugin = definePlugin({...})\`)`,
    );
  }
  const checked = checkDeclaration(name, lookedFor, declaration, `the 'plugin' export of ${entryPath}`, options);
  const info = packageInfo(entryPath);
  return {
    configName: name,
    declaration: checked,
    packageName: info.name ?? entryPath,
    packageVersion: info.version,
    entryPath,
  };
}

/**
 * Checks a plugin declaration, whether a package exported it as `plugin` or a
 * plugin author handed it to verifyPlugin: made with definePlugin, for this
 * plugin API version, of the expected kind, with schemas that compile.
 * `source` says where it came from in messages.
 */
export function checkDeclaration(
  name: string,
  lookedFor: string,
  declaration: unknown,
  source: string,
  options: Pick<LoadPluginOptions, 'expectedKind' | 'configKey'>,
): PluginDeclaration {
  if (!isPluginDeclaration(declaration)) {
    throw new PluginLoadError(
      ErrorCodes.PLUGIN_NO_EXPORT,
      name,
      lookedFor,
      `plugin '${name}'${where(options)}: ${source} was not made with definePlugin from @handyrep/plugin-sdk`,
    );
  }
  if (declaration.apiVersion !== PLUGIN_API_VERSION) {
    throw new PluginLoadError(
      ErrorCodes.PLUGIN_API_VERSION,
      name,
      lookedFor,
      `plugin '${name}'${where(options)} was built for plugin API version ${String(declaration.apiVersion)}, ` +
        `but this HandyRep supports version ${PLUGIN_API_VERSION}; install a matching version of the plugin`,
    );
  }
  if (options.expectedKind && declaration.kind !== options.expectedKind) {
    throw new PluginLoadError(
      ErrorCodes.PLUGIN_WRONG_KIND,
      name,
      lookedFor,
      `plugin '${name}'${where(options)} is a '${declaration.kind}' plugin, but a '${options.expectedKind}' plugin is needed there`,
    );
  }
  checkSchemas(name, lookedFor, declaration);
  return declaration;
}

function checkSchemas(name: string, lookedFor: string, declaration: PluginDeclaration): void {
  const ajv = new Ajv({ strict: false });
  for (const [label, schema] of [
    ['configSchema', declaration.configSchema],
    ['serverSchema', declaration.serverSchema],
  ] as const) {
    if (schema === undefined) continue;
    try {
      ajv.compile(schema);
    } catch (err) {
      throw new PluginLoadError(
        ErrorCodes.PLUGIN_SCHEMA_INVALID,
        name,
        lookedFor,
        `plugin '${name}' declares an invalid ${label}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }
}
