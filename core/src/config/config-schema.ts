import type { JsonSchema, ObjectSchema, PluginDeclaration } from '@handyrep/plugin-sdk';
import {
  archiveSection,
  extraFailoverCommandSchema,
  failoverSection,
  handyrepSection,
  SERVER_NAME_PATTERN,
  serverProperties,
} from './core-schema.js';

/** Keys that only make sense on one server, never in `[server_defaults]`. */
const PER_SERVER_ONLY = ['hostname', 'role'];

/** A server key schema without its default, so a server section only overrides what it says. */
function withoutDefault(schema: JsonSchema): JsonSchema {
  const copy = { ...schema };
  delete copy.default;
  return copy;
}

function mapValues(record: Record<string, JsonSchema>, map: (schema: JsonSchema) => JsonSchema): Record<string, JsonSchema> {
  return Object.fromEntries(Object.entries(record).map(([key, schema]) => [key, map(schema)]));
}

/** Per-server keys: the core's plus every loaded plugin's `serverSchema` (core keys win). */
export function mergedServerProperties(plugins: readonly PluginDeclaration[]): Record<string, JsonSchema> {
  const merged: Record<string, JsonSchema> = { ...serverProperties };
  for (const plugin of plugins) {
    for (const [key, schema] of Object.entries(plugin.serverSchema?.properties ?? {})) {
      if (!(key in merged)) merged[key] = { ...schema, description: `${schema.description ?? ''} (plugin ${plugin.name})`.trim() };
    }
  }
  return merged;
}

/**
 * The one schema a config file is validated against: the core sections plus
 * every loaded plugin's section and server keys. Every section defaults to
 * `{}` so ajv fills in the defaults of sections that are absent.
 */
export function buildConfigSchema(plugins: readonly PluginDeclaration[]): ObjectSchema {
  const serverProps = mergedServerProperties(plugins);
  const defaultsProps = Object.fromEntries(
    Object.entries(serverProps).filter(([key]) => !PER_SERVER_ONLY.includes(key)),
  );
  const pluginSections: Record<string, JsonSchema> = {};
  for (const plugin of plugins) {
    pluginSections[plugin.name] = { ...plugin.configSchema, default: {} };
  }
  return {
    type: 'object',
    properties: {
      handyrep: { ...handyrepSection, default: {} },
      failover: { ...failoverSection, default: {} },
      archive: { ...archiveSection, default: {} },
      server_defaults: {
        type: 'object',
        description: 'Defaults for every server; a [servers.<name>] section overrides them key by key.',
        properties: defaultsProps,
        additionalProperties: false,
        default: {},
      },
      servers: {
        type: 'object',
        description: 'One [servers.<name>] section per server.',
        propertyNames: { pattern: SERVER_NAME_PATTERN },
        additionalProperties: {
          type: 'object',
          properties: mapValues(serverProps, withoutDefault),
          required: PER_SERVER_ONLY,
          additionalProperties: false,
        },
        default: {},
      },
      passwords: {
        type: 'object',
        description: 'Passwords, by key. Never returned by the API, logged or saved.',
        additionalProperties: { type: 'string' },
        default: {},
      },
      extra_failover_commands: {
        type: 'object',
        description: 'One [extra_failover_commands.<name>] section per command.',
        propertyNames: { pattern: SERVER_NAME_PATTERN },
        additionalProperties: extraFailoverCommandSchema,
        default: {},
      },
      plugins: {
        type: 'object',
        description: 'One [plugins.<name>] section per loaded plugin.',
        properties: pluginSections,
        additionalProperties: false,
        default: {},
      },
    },
    additionalProperties: false,
  };
}
