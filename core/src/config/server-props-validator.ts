import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import type { PluginDeclaration } from '@handyrep/plugin-sdk';
import type { PropsValidator } from '../registry/server-registry.js';
import { mergedServerProperties } from './config-schema.js';

const ARTICLE: Record<string, string> = { integer: 'an integer', number: 'a number', boolean: 'true or false', string: 'a string' };

function problemOf(error: ErrorObject, given: Readonly<Record<string, unknown>>): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return `unknown server property '${String(params['additionalProperty'])}'`;
  const key = error.instancePath.slice(1);
  if (error.keyword === 'type' && key !== '' && typeof params['type'] === 'string') {
    const wanted = ARTICLE[params['type']] ?? params['type'];
    return `${key} must be ${wanted}, not ${JSON.stringify(given[key])}`;
  }
  return `${key || 'properties'} ${error.message ?? 'is invalid'}`;
}

/**
 * Validates properties given to alter_server_def/add_server against the same
 * per-server schema the config uses (types, ranges, unknown keys), converting
 * the strings the web API and CLI send ("true" → true, "5" → 5). The converted
 * copy is exactly what was validated; the registry stores it.
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
    // ajv converts in place: validate a copy, which then holds the converted values.
    const converted = structuredClone({ ...props });
    if (validate(converted)) return { converted, problems: [] };
    return { converted, problems: (validate.errors ?? []).map((error) => problemOf(error, props)) };
  };
}
