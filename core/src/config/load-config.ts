import { accessSync, constants } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, ErrorCodes, errorMessage, PluginLoadError } from '@handyrep/plugin-sdk';
import type { ConfigProblem, PluginDeclaration, PluginKind } from '@handyrep/plugin-sdk';
import { loadPlugin } from '../plugins/plugin-loader.js';
import type { LoadedPlugin } from '../plugins/plugin-loader.js';
import { buildConfigSchema } from './config-schema.js';
import type { HandyRepConfig } from './config-types.js';
import { CLUSTER_PLUGIN_KEYS, SERVER_PLUGIN_KEYS } from './core-schema.js';
import { readIniFile } from './ini-reader.js';
import type { IniPositions, RawConfig } from './ini-reader.js';
import { validateConfig } from './config-validator.js';

/** One place in the config (or the saved state) that names a plugin. */
export interface PluginReference {
  /** Section of the reference, e.g. `failover` or `servers.db1`. */
  section: string;
  /** Key, e.g. `poll_method`. */
  key: string;
  /** The plugin name written there. */
  name: string;
  /** The kind that key needs. */
  kind: PluginKind;
}

/** A configuration that passed validation, with its plugins loaded (not yet created). */
export interface LoadedConfig {
  /** Absolute path of the config file. */
  file: string;
  /** Its directory; relative paths in it are resolved from here. */
  dir: string;
  /** The validated config, defaults applied, paths absolute. */
  config: HandyRepConfig;
  /** Loaded plugins by the name used in the config. */
  plugins: Map<string, LoadedPlugin>;
  /** Every plugin reference, for wiring plugins to keys. */
  references: PluginReference[];
  /** Things the operator should fix that do not stop HandyRep (e.g. a config file others may read), logged at start. */
  warnings?: string[];
}

/** Options of loadConfig. */
export interface LoadConfigOptions {
  /** Plugin references from outside the file, e.g. server definitions in the saved state. */
  extraReferences?: readonly PluginReference[];
}

function section(raw: RawConfig, name: string): Record<string, unknown> {
  const value = raw[name];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** Every non-empty plugin name the raw file mentions, with the key and the kind it needs. */
export function collectPluginReferences(raw: RawConfig): PluginReference[] {
  const references: PluginReference[] = [];
  const add = (sectionName: string, key: string, value: unknown, kind: PluginKind): void => {
    if (typeof value === 'string' && value.trim() !== '') {
      references.push({ section: sectionName, key, name: value.trim(), kind });
    }
  };
  for (const [path, kind] of Object.entries(CLUSTER_PLUGIN_KEYS)) {
    const [sectionName, key] = path.split('.') as [string, string];
    add(sectionName, key, section(raw, sectionName)[key], kind);
  }
  for (const [key, kind] of Object.entries(SERVER_PLUGIN_KEYS)) {
    add('server_defaults', key, section(raw, 'server_defaults')[key], kind);
    for (const [serverName, server] of Object.entries(section(raw, 'servers'))) {
      if (typeof server === 'object' && server !== null) {
        add(`servers.${serverName}`, key, (server as Record<string, unknown>)[key], kind);
      }
    }
  }
  return references;
}

/** `[handyrep] plugin_paths`: comma-separated directories, relative to the config file's directory. */
export function pluginPathsOf(value: unknown, dir: string): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => expandPath(entry, dir));
}

function expandPath(path: string, dir: string): string {
  if (path === '') return path;
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(dir, path);
}

function lineOf(positions: IniPositions, problem: ConfigProblem): number | undefined {
  return positions.get(`${problem.section}\0${problem.key}`) ?? positions.get(problem.section);
}

/** File order first; problems about absent keys (e.g. a missing required one) follow their section. */
function sortByPosition(problems: ConfigProblem[], positions: IniPositions): ConfigProblem[] {
  const order = (problem: ConfigProblem): number => lineOf(positions, problem) ?? Number.MAX_SAFE_INTEGER;
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => order(a.problem) - order(b.problem) || a.index - b.index)
    .map(({ problem }) => problem);
}

function formatProblems(file: string, problems: readonly ConfigProblem[], positions: IniPositions): string {
  const lines = problems.map((p) => {
    const line = lineOf(positions, p);
    return `  [${p.section}]${p.key ? ` ${p.key}` : ''}: ${p.message}${line === undefined ? '' : ` (line ${line})`}`;
  });
  return `configuration file ${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
}

/**
 * Reads, loads and validates a config file: every problem in the file and in
 * the plugins it names is collected and thrown at once as one ConfigError, so
 * nothing starts half-configured.
 */
export async function loadConfig(path: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = resolve(path);
  const dir = dirname(file);
  const { raw, positions } = await readIniFile(file);
  const references = [...collectPluginReferences(raw), ...(options.extraReferences ?? [])];

  // Plugins are loaded before the file is validated (their schemas are part of it), so this one key is read raw.
  const pluginPaths = pluginPathsOf(section(raw, 'handyrep')['plugin_paths'], dir);
  const problems: ConfigProblem[] = [];
  const plugins = new Map<string, LoadedPlugin>();
  const failedNames = new Set<string>();
  for (const reference of references) {
    if (failedNames.has(reference.name)) continue;
    let loaded = plugins.get(reference.name);
    try {
      loaded ??= await loadPlugin(reference.name, {
        baseDir: dir,
        pluginPaths,
        expectedKind: reference.kind,
        configKey: `[${reference.section}] ${reference.key}`,
      });
      plugins.set(reference.name, loaded);
      if (loaded.declaration.kind !== reference.kind) {
        problems.push({
          section: reference.section,
          key: reference.key,
          message: `plugin '${reference.name}' is a '${loaded.declaration.kind}' plugin, but a '${reference.kind}' plugin is needed here`,
          code: ErrorCodes.PLUGIN_WRONG_KIND,
        });
      }
    } catch (err) {
      failedNames.add(reference.name);
      problems.push({
        section: reference.section,
        key: reference.key,
        message: errorMessage(err),
        ...(err instanceof PluginLoadError ? { code: err.code } : {}),
      });
    }
  }

  const declarations = uniqueDeclarations(plugins);
  const outcome = validateConfig(buildConfigSchema(declarations), raw);
  const failedSections = new Set([...failedNames].map((name) => `plugins.${name}`));
  for (const problem of outcome.problems) {
    if (failedSections.has(problem.section)) continue;
    problems.push(problem.section.startsWith('plugins.') ? { ...problem, code: ErrorCodes.PLUGIN_CONFIG_INVALID } : problem);
  }
  const config = outcome.config as unknown as HandyRepConfig;
  if (problems.length === 0) problems.push(...crossChecks(config, dir));

  if (problems.length > 0) {
    const sorted = sortByPosition(problems, positions);
    const allPluginErrors = problems.every((problem) => problem.code !== undefined);
    throw new ConfigError(
      allPluginErrors && problems.length === 1 && problems[0]?.code ? problems[0].code : ErrorCodes.CONFIG_INVALID,
      formatProblems(file, sorted, positions),
      sorted,
      file,
    );
  }

  const settings = config.handyrep;
  settings.log_file = expandPath(settings.log_file, dir);
  settings.server_file = expandPath(settings.server_file, dir);
  settings.ssh_key = expandPath(settings.ssh_key, dir);
  settings.ssh_known_hosts = expandPath(settings.ssh_known_hosts, dir);
  settings.tls_cert = expandPath(settings.tls_cert, dir);
  settings.tls_key = expandPath(settings.tls_key, dir);
  settings.pg_sslrootcert = expandPath(settings.pg_sslrootcert, dir);
  settings.pg_sslcert = expandPath(settings.pg_sslcert, dir);
  settings.pg_sslkey = expandPath(settings.pg_sslkey, dir);
  const warnings = await checkFileMode(file, config);
  return { file, dir, config, plugins, references, warnings };
}

/**
 * The config file's mode: a file holding [passwords] that others may read is
 * refused (HR_CONFIG_PERMISSIONS) unless allow_world_readable_config says
 * otherwise; one that group or others may read is a warning.
 */
async function checkFileMode(file: string, config: HandyRepConfig): Promise<string[]> {
  const mode = (await stat(file)).mode & 0o777;
  const hasPasswords = Object.keys(config.passwords).length > 0;
  const octal = mode.toString(8).padStart(3, '0');
  if (hasPasswords && (mode & 0o004) !== 0 && !config.handyrep.allow_world_readable_config) {
    const problem = {
      section: 'passwords',
      key: '',
      message: `${file} holds passwords and any user of this machine may read it (mode ${octal}); run chmod 600 (or 640 for a group you trust) on it, or set [handyrep] allow_world_readable_config = true`,
      code: ErrorCodes.CONFIG_PERMISSIONS,
    };
    throw new ConfigError(ErrorCodes.CONFIG_PERMISSIONS, `configuration file ${file}: ${problem.message}`, [problem], file);
  }
  if ((mode & 0o044) !== 0) {
    return [`configuration file ${file} may be read by ${(mode & 0o004) !== 0 ? 'any user' : 'its group'} (mode ${octal})${hasPasswords ? ' and holds passwords' : ''}; chmod 600 it`];
  }
  return [];
}

function uniqueDeclarations(plugins: Map<string, LoadedPlugin>): PluginDeclaration[] {
  const byName = new Map<string, PluginDeclaration>();
  for (const loaded of plugins.values()) byName.set(loaded.declaration.name, loaded.declaration);
  return [...byName.values()];
}

/** Rules that span keys, checked once the schema is satisfied. */
function crossChecks(config: HandyRepConfig, dir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if ((config.handyrep.tls_cert === '') !== (config.handyrep.tls_key === '')) {
    problems.push({ section: 'handyrep', key: config.handyrep.tls_cert === '' ? 'tls_cert' : 'tls_key', message: 'tls_cert and tls_key go together' });
  }
  if ((config.handyrep.pg_sslcert === '') !== (config.handyrep.pg_sslkey === '')) {
    problems.push({ section: 'handyrep', key: config.handyrep.pg_sslcert === '' ? 'pg_sslcert' : 'pg_sslkey', message: 'pg_sslcert and pg_sslkey go together' });
  }
  for (const key of ['pg_sslrootcert', 'pg_sslcert', 'pg_sslkey'] as const) {
    const value = config.handyrep[key];
    if (value === '') continue;
    try {
      accessSync(expandPath(value, dir), constants.R_OK);
    } catch (err) {
      problems.push({ section: 'handyrep', key, message: `cannot read ${expandPath(value, dir)}: ${errorMessage(err)}` });
    }
  }
  const archiveServer = config.archive.archive_server;
  if (archiveServer !== '' && !(archiveServer in config.servers)) {
    problems.push({ section: 'archive', key: 'archive_server', message: `names no [servers.${archiveServer}] section` });
  }
  return problems;
}
