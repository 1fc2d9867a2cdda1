import { Ajv } from 'ajv';
import type { PluginDeclaration } from '@handyrep/plugin-sdk';
import type { PropsValidator } from '../registry/server-registry.js';
import { mergedServerProperties } from './config-schema.js';

/**
 * Validates properties given to alter_server_def/add_server against the same
 * per-server schema the config uses (types, ranges, unknown keys), coercing
 * the strings the web API and CLI send.
 */
export function serverPropsValidator(plugins: readonly PluginDeclaration[]): PropsValidator {
  const properties = Object.fromEntries(
    Object.entries(mergedServerProperties(plugins)).map(([key, schema]) => {
      const copy = { ...schema };
      delete copy.default;
      return [key, copy];
    }),
  );
  const ajv = new Ajv({ allErrors: true, coerceTypes: true, strict: false });
  const validate = ajv.compile({ type: 'object', properties, additionalProperties: false });
  return (props) => {
    if (validate(structuredClone(props))) return [];
    return (validate.errors ?? []).map((error) => {
      const params = error.params as Record<string, unknown>;
      if (error.keyword === 'additionalProperties') return `unknown server property '${String(params['additionalProperty'])}'`;
      return `${error.instancePath.slice(1) || 'properties'} ${error.message ?? 'is invalid'}`;
    });
  };
}
