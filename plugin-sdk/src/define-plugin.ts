import { PLUGIN_API_VERSION } from './api-version.js';
import type { PluginContext } from './capabilities/plugin-context.js';
import type { ObjectSchema } from './json-schema.js';
import type { PluginKind, PluginKindMap } from './kinds/plugin-kind.js';
import { PLUGIN_KINDS } from './kinds/plugin-kind.js';

/** The brand that marks an object as a HandyRep plugin declaration. */
export const PLUGIN_BRAND = '@handyrep/plugin' as const;

/** What a plugin author writes. */
export interface PluginSpec<Kind extends PluginKind, Config> {
  /** Which contract the plugin implements. */
  kind: Kind;
  /** The name operators write in the config, e.g. `promote_pg_ctl`. */
  name: string;
  /** One line saying what it does. */
  description: string;
  /** Schema of the `[plugins.<name>]` section (defaults are applied from it). */
  configSchema: ObjectSchema;
  /** Extra per-server keys the plugin reads, merged into the server schema. */
  serverSchema?: ObjectSchema;
  /** Builds an instance. Throwing here stops HandyRep from starting. */
  create(context: PluginContext<Config>): PluginKindMap[Kind] | Promise<PluginKindMap[Kind]>;
}

/** A declared plugin: the spec, branded and stamped with the SDK's API version. */
export interface PluginDeclaration<Kind extends PluginKind = PluginKind, Config = Record<string, unknown>>
  extends Readonly<PluginSpec<Kind, Config>> {
  /** Brand checked by the loader. */
  readonly $$type: typeof PLUGIN_BRAND;
  /** The plugin API version the plugin was built against. */
  readonly apiVersion: number;
}

const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

/** Declares a plugin. The result is what a plugin package exports as `plugin`. */
export function definePlugin<Kind extends PluginKind, Config = Record<string, unknown>>(
  spec: PluginSpec<Kind, Config>,
): PluginDeclaration<Kind, Config> {
  if (!PLUGIN_KINDS.includes(spec.kind)) {
    throw new TypeError(`definePlugin: unknown kind '${String(spec.kind)}' (known: ${PLUGIN_KINDS.join(', ')})`);
  }
  if (!NAME_PATTERN.test(spec.name)) {
    throw new TypeError(`definePlugin: name '${spec.name}' must be lower case letters, digits and underscores`);
  }
  if (spec.configSchema?.type !== 'object') {
    throw new TypeError(`definePlugin: plugin '${spec.name}' needs an object configSchema`);
  }
  return Object.freeze({ ...spec, $$type: PLUGIN_BRAND, apiVersion: PLUGIN_API_VERSION });
}

/** True when `value` carries the plugin brand (any API version). */
export function isPluginDeclaration(value: unknown): value is PluginDeclaration {
  return typeof value === 'object' && value !== null && (value as { $$type?: unknown }).$$type === PLUGIN_BRAND;
}
