import type { PluginDeclaration } from '../define-plugin.js';
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
  /** The package that was loaded; undefined when a plugin object was verified. */
  packageName: string | undefined;
  /** Its version, when it has a package.json. */
  packageVersion: string | undefined;
  /** The config section after validation and defaults. */
  config: Record<string, unknown>;
  /** The methods the instance was checked for. */
  methods: readonly string[];
}

/** What to verify: a config name, a package name, a path (`'.'`: the package in the working directory) or the plugin object itself. */
export type VerifyPluginTarget = string | PluginDeclaration;

interface CoreVerifier {
  verifyPluginPackage(spec: VerifyPluginTarget, options: VerifyPluginOptions): Promise<VerifyPluginReport>;
}

/** The one sentence a plugin author needs when the core is not installed. */
export const CORE_MISSING_MESSAGE =
  'verifyPlugin runs the real HandyRep core loader, and @handyrep/core is not installed here: add it to your plugin\'s devDependencies (npm install --save-dev @handyrep/core).';

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${specifier}'`);
}

async function importCore(): Promise<Partial<CoreVerifier>> {
  // A variable specifier keeps the SDK free of a build-time dependency on the core.
  const coreModule: string = '@handyrep/core';
  try {
    return (await import(coreModule)) as Partial<CoreVerifier>;
  } catch (err) {
    if (isModuleNotFound(err, coreModule)) throw new Error(CORE_MISSING_MESSAGE, { cause: err });
    throw err;
  }
}

/**
 * Runs the real HandyRep core loader against a plugin: a config name such as
 * `promote_pg_ctl`, a package name, a path (`'.'` for the package being
 * written, found through its package.json as HandyRep would) or the `plugin`
 * object itself. Resolves it, checks the declaration and API version,
 * validates `config` against its schema, creates an instance with a context of
 * fakes and checks it has its kind's methods. Throws the loader's coded error
 * on any failure. Needs `@handyrep/core` installed beside the SDK (a
 * devDependency of the plugin); without it, says so in one sentence.
 */
export async function verifyPlugin(spec: VerifyPluginTarget, options: VerifyPluginOptions = {}): Promise<VerifyPluginReport> {
  const core = await importCore();
  if (typeof core.verifyPluginPackage !== 'function') {
    throw new Error(`${CORE_MISSING_MESSAGE} (the @handyrep/core found has no verifyPluginPackage: it is older than this SDK)`);
  }
  return core.verifyPluginPackage(spec, options);
}
