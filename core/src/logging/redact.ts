import { pino } from 'pino';

/** What every masked value is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Top-level and one-level-down keys handed to pino's own `redact`. The deep
 * walk in `redactValue` already masks these; pino's pass runs last, at
 * serialisation, so it still holds if a serializer is added later that
 * re-introduces a raw value.
 */
export const WELL_KNOWN_SECRET_PATHS: readonly string[] = [
  'password', 'passwd', 'pass', 'secret', 'token', 'credentials', 'authorization',
].flatMap((key) => [key, `*.${key}`]);

/** Nesting beyond this is cut, so a pathological object cannot stall a log call. */
const MAX_DEPTH = 16;

// Tested against a lower-cased, snake_cased key so `dbPassword`, `DB_PASSWORD`
// and `x-auth-token` all match; `pass` and `pwd` only as whole words so
// `bypass` or `passive` are left alone.
const SECRET_KEY =
  /passw(?:or)?d|passphrase|secret|token|credential|authori[sz]ation|cookie|api_?key|private_?key|(?:^|[^a-z])(?:pass|pwd)(?:$|[^a-z])/;

// libpq conninfo (`password=x`, `password = 'a b'`), environment assignments
// (`PGPASSWORD=x`) and URL query parameters. An unquoted value runs to the
// next blank: masking too much is preferable to leaking the tail of a value
// that contains `&` or `;`.
const ASSIGNED_PASSWORD =
  /((?:password|passwd|passphrase|(?<![a-z])pass|(?<![a-z])pwd)\s*=\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s'"]+)/gi;

// JSON text embedded in a message, e.g. an error that echoes a request body.
const JSON_PASSWORD = /("(?:password|passwd|pass|pwd|secret|token)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

// `scheme://user:password@host`; the password part is greedy up to the last `@`
// of the authority because libpq accepts an unencoded `@` there.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:)[^\s/?#]*@/gi;

/** Masks secrets in log messages and structured fields for one set of known secret values. */
export interface Redactor {
  /** `text` with known secret values and password-looking assignments masked. */
  redactText(text: string): string;
  /** A redacted, cycle-free, JSON-safe deep copy of `value`; the input is never modified. */
  redactValue(value: unknown): unknown;
  /** Masks known secret values as they appear (JSON-escaped) inside an already serialised line. */
  redactSerialized(line: string): string;
}

/** True when a field with this key must never have its value logged. */
export function isSecretKey(key: string): boolean {
  const normalised = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return SECRET_KEY.test(normalised);
}

/** Builds a redactor for the given secret values; empty strings are ignored. */
export function createRedactor(secrets: Iterable<string>): Redactor {
  const values = distinctSecrets(secrets);
  const plain = alternation(values);
  const escaped = alternation(values.map((value) => JSON.stringify(value).slice(1, -1)));

  const redactText = (text: string): string => {
    let out = plain === undefined ? text : text.replace(plain, REDACTED);
    out = out.replace(ASSIGNED_PASSWORD, `$1${REDACTED}`);
    out = out.replace(JSON_PASSWORD, `$1"${REDACTED}"`);
    return out.replace(URL_PASSWORD, `$1${REDACTED}@`);
  };

  return {
    redactText,
    redactValue: (value) => copyRedacted(value, redactText, new Set<object>(), 0),
    redactSerialized: (line) => (escaped === undefined ? line : line.replace(escaped, REDACTED)),
  };
}

function distinctSecrets(secrets: Iterable<string>): string[] {
  const set = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret === 'string' && secret.length > 0) set.add(secret);
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...set].sort((a, b) => b.length - a.length);
}

function alternation(values: readonly string[]): RegExp | undefined {
  if (values.length === 0) return undefined;
  return new RegExp(values.map((value) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}

function copyRedacted(value: unknown, redactText: (text: string) => string, path: Set<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return redactText(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return value.toString();
    case 'symbol':
    case 'function':
      return undefined;
  }
  if (value === null) return null;
  const object = value as object;
  // Only the current path counts as a cycle: an object referenced twice from
  // siblings is logged twice, as JSON.stringify would.
  if (path.has(object)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  path.add(object);
  try {
    return copyObject(object, (inner) => copyRedacted(inner, redactText, path, depth + 1));
  } finally {
    path.delete(object);
  }
}

function copyObject(object: object, copy: (inner: unknown) => unknown): unknown {
  if (object instanceof Error) {
    // pino's serializer keeps type, stack, causes and custom properties that
    // JSON.stringify would drop; the result is then walked like any object.
    return copyFields(pino.stdSerializers.err(object), copy);
  }
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (ArrayBuffer.isView(object)) return `[${object.constructor.name} ${object.byteLength} bytes]`;
  if (Array.isArray(object)) return object.map((item) => copy(item) ?? null);
  if (object instanceof Map) {
    const entries: [string, unknown][] = [...object.entries()].map(([key, item]) => [String(key), item]);
    return copyFields(Object.fromEntries(entries), copy);
  }
  if (object instanceof Set) return [...object].map((item) => copy(item) ?? null);
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    try {
      return copy(toJSON.call(object));
    } catch {
      return '[Unserializable]';
    }
  }
  return copyFields(object, copy);
}

function copyFields(object: object, copy: (inner: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    let inner: unknown;
    try {
      inner = (object as Record<string, unknown>)[key];
    } catch {
      out[key] = '[Unreadable]';
      continue;
    }
    if (isSecretKey(key)) {
      if (inner !== undefined) out[key] = REDACTED;
      continue;
    }
    const copied = copy(inner);
    if (copied !== undefined) out[key] = copied;
  }
  return out;
}
