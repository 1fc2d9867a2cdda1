import type { PluginKind } from '../kinds/plugin-kind.js';

/** What to verify. */
export interface VerifyPluginOptions {
  /** The kind the plugin must declare; any kind when omitted. */
  kind?: PluginKind;
  /** The `[plugins.<name>]` section to validate and create the plugin with. */
  config?: Record<string, unknown>;
  /** Directory relative paths are resolved from, and whose `node_modules` is searched for the package (default: the working directory). */
  baseDir?: string;
}

/** What the core loader found. */
export interface VerifyPluginReport {
  /** The declared plugin name. */
  name: string;
  /** The declared kind. */
  kind: PluginKind;
  /** The package that was loaded. */
  packageName: string;
  /** Its version, when it has a package.json. */
  packageVersion: string | undefined;
  /** The config section after validation and defaults. */
  config: Record<string, unknown>;
  /** The methods the instance was checked for. */
  methods: readonly string[];
}

interface CoreVerifier {
  verifyPluginPackage(spec: string, options: VerifyPluginOptions): Promise<VerifyPluginReport>;
}

/**
 * Runs the real HandyRep core loader against a plugin (a config name such as
 * `promote_pg_ctl`, a package name or a path): resolves it, checks the
 * declaration and API version, validates `config` against its schema, creates
 * an instance with a context of fakes and checks it has its kind's methods.
 * Throws the loader's coded error on any failure. Needs `@handyrep/core`
 * installed beside the SDK (a devDependency of the plugin).
 */
export async function verifyPlugin(spec: string, options: VerifyPluginOptions = {}): Promise<VerifyPluginReport> {
  // A variable specifier keeps the SDK free of a build-time dependency on the core.
  const coreModule: string = '@handyrep/core';
  const core = (await import(coreModule)) as Partial<CoreVerifier>;
  if (typeof core.verifyPluginPackage !== 'function') {
    throw new Error('verifyPlugin needs @handyrep/core installed next to @handyrep/plugin-sdk');
  }
  return core.verifyPluginPackage(spec, options);
}
