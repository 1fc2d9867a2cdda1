import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import type { ConfigProblem, JsonSchema } from '@handyrep/plugin-sdk';

/** Sections whose children are themselves sections: `[servers.<name>]` and the like. */
const NESTED_SECTIONS = new Set(['servers', 'plugins', 'extra_failover_commands']);

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(data: unknown, path: readonly string[]): unknown {
  let current = data;
  for (const part of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function describeExpectation(error: ErrorObject, got: unknown): string {
  const shown = got === undefined ? '' : ` (got ${JSON.stringify(got)})`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type':
      return `must be ${params['type'] === 'object' ? 'a section' : `a${/^[aeiou]/.test(String(params['type'])) ? 'n' : ''} ${String(params['type'])}`}${shown}`;
    case 'enum':
      return `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${shown}`;
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'unknown key';
    case 'pattern':
      return `must match ${String(params['pattern'])}${shown}`;
    default:
      return `${error.message ?? 'is invalid'}${shown}`;
  }
}

/** Turns one ajv error into a problem located by INI section and key. */
export function toConfigProblem(error: ErrorObject, data: unknown): ConfigProblem {
  const path = decodePointer(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const named =
    error.keyword === 'additionalProperties'
      ? String(params['additionalProperty'])
      : error.keyword === 'required'
        ? String(params['missingProperty'])
        : error.keyword === 'propertyNames'
          ? String(params['propertyName'])
          : undefined;
  const full = named !== undefined ? [...path, named] : path;
  const got = named !== undefined ? undefined : valueAt(data, path);
  const first = full[0] ?? '';

  if (full.length === 1) {
    const message =
      error.keyword === 'additionalProperties'
        ? 'unknown section'
        : error.keyword === 'propertyNames'
          ? `section name must match ${SECTION_NAME_HINT}`
          : describeExpectation(error, got);
    return { section: first, key: '', message };
  }
  if (NESTED_SECTIONS.has(first)) {
    const section = `${first}.${full[1] ?? ''}`;
    if (full.length === 2) {
      let message = describeExpectation(error, got);
      if (error.keyword === 'additionalProperties' && first === 'plugins') message = 'no loaded plugin has this name';
      else if (error.keyword === 'additionalProperties') message = 'unknown section';
      else if (error.keyword === 'propertyNames') message = `name must match ${SECTION_NAME_HINT}`;
      return { section, key: '', message };
    }
    return { section, key: full.slice(2).join('.'), message: describeExpectation(error, got) };
  }
  return { section: first, key: full.slice(1).join('.'), message: describeExpectation(error, got) };
}

const SECTION_NAME_HINT = 'letters, digits, _ and - (at most 63, starting with a letter or digit)';

/** The outcome of validating a parsed config. */
export interface ValidationOutcome {
  /** The config with defaults applied and strings coerced (only meaningful when `problems` is empty). */
  config: Record<string, unknown>;
  /** Every problem found. */
  problems: ConfigProblem[];
}

/** Compiles `schema` once and validates a copy of `raw` against it: defaults, coercion, all errors. */
export function validateConfig(schema: JsonSchema, raw: Record<string, unknown>): ValidationOutcome {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: false });
  const validate = ajv.compile(schema);
  const config = structuredClone(raw);
  if (validate(config)) return { config, problems: [] };
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const error of validate.errors ?? []) {
    // propertyNames failures come with a duplicate 'pattern' error on the name itself.
    if (error.keyword === 'pattern' && error.propertyName !== undefined) continue;
    const problem = toConfigProblem(error, config);
    const id = `${problem.section}\0${problem.key}\0${problem.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      problems.push(problem);
    }
  }
  return { config, problems };
}
