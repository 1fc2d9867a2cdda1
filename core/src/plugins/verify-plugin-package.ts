import { ConfigError, ErrorCodes, errorMessage, KIND_METHODS, missingKindMethods, PluginLoadError } from '@handyrep/plugin-sdk';
import type { PluginKind } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { VerifyPluginOptions, VerifyPluginReport, VerifyPluginTarget } from '@handyrep/plugin-sdk/testing';
import { validateConfig } from '../config/config-validator.js';
import { checkDeclaration, loadPlugin } from './plugin-loader.js';
import type { LoadedPlugin } from './plugin-loader.js';
import { ownPackageDir } from './own-package.js';

/**
 * The core side of the SDK's `verifyPlugin()`: the real loader, the real
 * schema validation with defaults, then a creation with a context of fakes.
 */
export async function verifyPluginPackage(target: VerifyPluginTarget, options: VerifyPluginOptions = {}): Promise<VerifyPluginReport> {
  const spec = typeof target === 'string' ? target : `the plugin object${typeof target?.name === 'string' ? ` '${target.name}'` : ''}`;
  const loaded = typeof target === 'string' ? await loadNamed(target, options) : fromObject(spec, target, options);
  const { declaration } = loaded;
  const outcome = validateConfig(
    { type: 'object', properties: { plugins: { type: 'object', properties: { [declaration.name]: declaration.configSchema } } } },
    { plugins: { [declaration.name]: options.config ?? {} } },
  );
  if (outcome.problems.length > 0) {
    throw new ConfigError(
      ErrorCodes.PLUGIN_CONFIG_INVALID,
      `plugin '${spec}' rejects its config section: ` +
        outcome.problems.map((p) => `${p.key || '(section)'}: ${p.message}`).join('; '),
      outcome.problems,
    );
  }
  const config = (outcome.config['plugins'] as Record<string, Record<string, unknown>>)[declaration.name] ?? {};
  const { context } = createTestContext({ name: declaration.name, config });
  let instance: unknown;
  try {
    instance = await declaration.create(context);
  } catch (err) {
    throw new PluginLoadError(ErrorCodes.PLUGIN_FACTORY_FAILED, spec, loaded.packageName ?? spec, `plugin '${spec}' failed to start: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  const kind: PluginKind = declaration.kind;
  const missing = missingKindMethods(kind, instance);
  if (missing.length > 0) {
    throw new PluginLoadError(
      ErrorCodes.PLUGIN_FACTORY_FAILED,
      spec,
      loaded.packageName ?? spec,
      `plugin '${spec}' created an instance without the ${kind} method(s) ${missing.join(', ')}`,
    );
  }
  await (instance as { close?: () => Promise<void> }).close?.();
  return {
    name: declaration.name,
    kind,
    packageName: loaded.packageName,
    packageVersion: loaded.packageVersion,
    config,
    methods: KIND_METHODS[kind],
  };
}

type Verified = Pick<LoadedPlugin, 'declaration' | 'packageVersion'> & { packageName: string | undefined };

async function loadNamed(spec: string, options: VerifyPluginOptions): Promise<Verified> {
  const baseDir = options.baseDir ?? process.cwd();
  // Inside the plugin's own package its name means the package itself, as '.' does.
  const own = ownPackageDir(spec, baseDir);
  // The plugin author's own project is where their package is installed: searched like a plugin_paths entry.
  return loadPlugin(own ?? spec, {
    baseDir,
    pluginPaths: [baseDir],
    ...(options.kind ? { expectedKind: options.kind } : {}),
  });
}

function fromObject(spec: string, target: unknown, options: VerifyPluginOptions): Verified {
  const declaration = checkDeclaration(spec, spec, target, spec, options.kind ? { expectedKind: options.kind } : {});
  return { declaration, packageName: undefined, packageVersion: undefined };
}
