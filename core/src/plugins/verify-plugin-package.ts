import { ConfigError, ErrorCodes, errorMessage, KIND_METHODS, missingKindMethods, PluginLoadError } from '@handyrep/plugin-sdk';
import type { PluginKind } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { VerifyPluginOptions, VerifyPluginReport } from '@handyrep/plugin-sdk/testing';
import { validateConfig } from '../config/config-validator.js';
import { loadPlugin } from './plugin-loader.js';

/**
 * The core side of the SDK's `verifyPlugin()`: the real loader, the real
 * schema validation with defaults, then a creation with a context of fakes.
 */
export async function verifyPluginPackage(spec: string, options: VerifyPluginOptions = {}): Promise<VerifyPluginReport> {
  const baseDir = options.baseDir ?? process.cwd();
  // The plugin author's own project is where their package is installed: searched like a plugin_paths entry.
  const loaded = await loadPlugin(spec, {
    baseDir,
    pluginPaths: [baseDir],
    ...(options.kind ? { expectedKind: options.kind } : {}),
  });
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
    throw new PluginLoadError(ErrorCodes.PLUGIN_FACTORY_FAILED, spec, loaded.packageName, `plugin '${spec}' failed to start: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  const kind: PluginKind = declaration.kind;
  const missing = missingKindMethods(kind, instance);
  if (missing.length > 0) {
    throw new PluginLoadError(
      ErrorCodes.PLUGIN_FACTORY_FAILED,
      spec,
      loaded.packageName,
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
