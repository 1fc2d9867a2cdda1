import { isAbsolute, resolve } from 'node:path';

/** Where a configured plugin name may be found, in the order they are tried. */
export interface PluginCandidate {
  /** A package name or an absolute path. */
  specifier: string;
  /** True for a filesystem path, false for a package name. */
  isPath: boolean;
}

const CONFIG_NAME = /^[a-z][a-z0-9_]*$/;

/** HandyRep's own packages whose names look like a plugin's but are not plugins. */
const NOT_PLUGINS = new Set(['@handyrep/plugin-sdk']);

function kebab(name: string): string {
  return name.replace(/_/g, '-');
}

/**
 * The single place plugin names are resolved (ARCHITECTURE.md):
 * `promote_pg_ctl` → `@handyrep/plugin-promote-pg-ctl`, then the third-party
 * `handyrep-plugin-promote-pg-ctl`; a scoped or full package name is used as
 * written; a path (starting with `.` or `/`) is taken relative to the config
 * file's directory.
 */
export function pluginCandidates(name: string, baseDir: string): PluginCandidate[] {
  if (name.startsWith('.') || isAbsolute(name)) {
    return [{ specifier: resolve(baseDir, name), isPath: true }];
  }
  if (CONFIG_NAME.test(name)) {
    return [
      { specifier: `@handyrep/plugin-${kebab(name)}`, isPath: false },
      { specifier: `handyrep-plugin-${kebab(name)}`, isPath: false },
    ].filter((candidate) => !NOT_PLUGINS.has(candidate.specifier));
  }
  return [{ specifier: name, isPath: false }];
}

/** The config name a plugin package answers to, or undefined when it is not named like a plugin. */
export function configNameOfPackage(packageName: string): string | undefined {
  if (NOT_PLUGINS.has(packageName)) return undefined;
  const match = /^(?:@handyrep\/plugin-|handyrep-plugin-)([a-z][a-z0-9-]*)$/.exec(packageName);
  return match?.[1]?.replace(/-/g, '_');
}
