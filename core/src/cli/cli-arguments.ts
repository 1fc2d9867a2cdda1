import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ApiFunction, ApiParameter } from '../api/api-functions.js';
import { UsageError } from './usage-error.js';

/** A validated call of one spec function: parameter names as in the spec, values converted; omitted optional parameters are absent. */
export interface FunctionCall {
  /** The function's row of the API table. */
  fn: ApiFunction;
  /** Converted arguments by the spec's parameter names. */
  args: Record<string, unknown>;
}

/** What commander handed a function subcommand: its positional values (in order) and its options. */
export interface RawInvocation {
  /** One entry per positional argument as declared: a string, a list (variadic), or undefined when omitted. */
  positionals: readonly (string | readonly string[] | undefined)[];
  /** Options by parameter name (booleans from --x / --no-x), plus `set` for repeated key=value pairs. */
  options: Record<string, unknown>;
}

/** True for a parameter given as `--name` / `--no-name` rather than as a positional argument. */
export function isFlag(param: ApiParameter): boolean {
  return param.schema.type === 'boolean';
}

/** True for a parameter taking a JSON object (`serverprops`), which `--set key=value` can build too. */
export function isObjectParam(param: ApiParameter): boolean {
  return param.schema.type === 'object';
}

/**
 * True for an optional positional parameter, which may also be given as
 * `--name value`: `manual_failover --at TIME` schedules a switchover to the
 * best candidate, which positionally would need the newmaster before it.
 */
export function isNamedOption(param: ApiParameter): boolean {
  return !param.required && !isFlag(param) && !isObjectParam(param);
}

/**
 * The parameters given as positional arguments, in the table's order.
 * get_setting is the exception: its optional category comes before the
 * required setting, so its first argument is the setting when alone (see settingArgs).
 */
export function positionalParams(fn: ApiFunction): ApiParameter[] {
  return fn.params.filter((param) => !isFlag(param));
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<ApiParameter, ValidateFunction>();

function validatorFor(param: ApiParameter): ValidateFunction {
  let validate = validators.get(param);
  if (!validate) {
    validate = ajv.compile(param.schema);
    validators.set(param, validate);
  }
  return validate;
}

function describeError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'enum' && Array.isArray(params['allowedValues'])) {
    return `must be one of ${params['allowedValues'].map(String).join(', ')}`;
  }
  const where = error.instancePath === '' ? '' : ` (${error.instancePath.slice(1)})`;
  return `${error.message ?? 'is invalid'}${where}`;
}

/** Checks a converted value against the parameter's JSON Schema; throws a UsageError naming the parameter. */
export function validateParam(param: ApiParameter, value: unknown): void {
  const validate = validatorFor(param);
  if (validate(value)) return;
  const problems = (validate.errors ?? []).map(describeError);
  const shown = typeof value === 'object' ? '' : `, got ${JSON.stringify(value)}`;
  throw new UsageError(`${param.name} ${problems.join('; ')}${shown}`);
}

/** Converts one command-line string to the type the parameter's schema asks for (not yet range-checked). */
export function convertValue(param: ApiParameter, raw: string): unknown {
  switch (param.schema.type) {
    case 'integer':
      if (!/^[+-]?\d+$/.test(raw.trim())) throw new UsageError(`${param.name} must be an integer, got ${JSON.stringify(raw)}`);
      return Number(raw);
    case 'number': {
      const number = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(number)) throw new UsageError(`${param.name} must be a number, got ${JSON.stringify(raw)}`);
      return number;
    }
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw new UsageError(`${param.name} must be true or false, got ${JSON.stringify(raw)}`);
      return raw === 'true';
    case 'object':
      return parseJsonObject(param.name, raw);
    default:
      return raw;
  }
}

function parseJsonObject(name: string, raw: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UsageError(`${name} must be a JSON object such as '{"port": 5433}', got ${JSON.stringify(raw)} (or use --set key=value)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${name} must be a JSON object such as '{"port": 5433}', got ${JSON.stringify(raw)}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * One `--set` value: a JSON number, boolean or null as such (`port=5433`,
 * `nofailover=true`), anything else as the string it is; a JSON string
 * (`hostname='"10"'`) forces a string.
 */
export function parseSetValue(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || ['number', 'boolean', 'string'].includes(typeof parsed)) return parsed;
  } catch {
    // Not JSON: a plain string such as a host name or a path.
  }
  return text;
}

/** `--set key=value` pairs as an object (values by parseSetValue). */
export function parseSetPairs(pairs: readonly string[]): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    const key = equals < 0 ? '' : pair.slice(0, equals).trim();
    if (key === '') throw new UsageError(`--set needs key=value, got ${JSON.stringify(pair)}`);
    props[key] = parseSetValue(pair.slice(equals + 1));
  }
  return props;
}

function settingArgs(fn: ApiFunction, parts: readonly string[]): Record<string, unknown> {
  const byName = (name: string): ApiParameter => {
    const param = fn.params.find((entry) => entry.name === name);
    if (!param) throw new Error(`get_setting has no parameter ${name} in the API table`);
    return param;
  };
  if (parts.length < 1 || parts.length > 2) {
    throw new UsageError(`get_setting takes a setting name, or a section and a setting name; got ${parts.length} arguments`);
  }
  const args: Record<string, unknown> = {};
  if (parts.length === 2) args['category'] = parts[0];
  args['setting'] = parts[parts.length - 1];
  for (const [name, value] of Object.entries(args)) validateParam(byName(name), value);
  return args;
}

/**
 * Converts and validates a subcommand's arguments by the API table: integers
 * and JSON objects parsed, every value checked against its schema, required
 * ones present. Throws a UsageError before anything is called.
 */
export function buildCall(fn: ApiFunction, raw: RawInvocation): FunctionCall {
  if (fn.spec === 'get_setting') {
    const parts = raw.positionals.flat().filter((part): part is string => typeof part === 'string');
    return { fn, args: settingArgs(fn, parts) };
  }
  const args: Record<string, unknown> = {};
  positionalParams(fn).forEach((param, index) => {
    const named = isNamedOption(param) ? raw.options[param.name] : undefined;
    if (typeof named === 'string' && typeof raw.positionals[index] === 'string') {
      throw new UsageError(`${param.name} given twice, as an argument and as --${param.name}; give it once`);
    }
    const given = typeof named === 'string' ? named : raw.positionals[index];
    let value: unknown = typeof given === 'string' ? convertValue(param, given) : undefined;
    if (isObjectParam(param)) {
      const pairs = raw.options['set'];
      if (Array.isArray(pairs) && pairs.length > 0) {
        value = { ...((value as Record<string, unknown> | undefined) ?? {}), ...parseSetPairs(pairs.map(String)) };
      }
    }
    if (value === undefined) {
      if (param.required) {
        const how = isObjectParam(param) ? ` (a JSON object, or --set key=value)` : '';
        throw new UsageError(`missing required argument ${param.name}${how}`);
      }
      return;
    }
    validateParam(param, value);
    args[param.name] = value;
  });
  for (const param of fn.params.filter(isFlag)) {
    const value = raw.options[param.name];
    if (value === undefined) continue;
    validateParam(param, value);
    args[param.name] = value;
  }
  return { fn, args };
}
