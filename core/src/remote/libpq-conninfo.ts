import { BadArgumentError } from '@handyrep/plugin-sdk';

/** Keys that would put a secret into a connection string, which is stored and logged in clear. */
const FORBIDDEN_KEYS = new Set(['password']);

/**
 * Quotes one value for a libpq `key=value` connection string: left bare when
 * it is plainly safe, otherwise single-quoted with `\` and `'` backslash-escaped
 * (libpq's rule; an empty value must be quoted).
 */
export function quoteConninfoValue(value: string): string {
  if (value.includes('\0')) throw new BadArgumentError('a connection string value cannot contain a NUL byte');
  if (/^[A-Za-z0-9_.,:/@+-]+$/.test(value)) return value;
  return `'${value.replace(/[\\']/g, (char) => `\\${char}`)}'`;
}

/**
 * Builds `key=value key=value ...` in the order given. Keys must be libpq
 * keywords in form (lower case, digits, underscores); `password` is refused so
 * a secret can never end up in primary_conninfo or a log.
 */
export function buildConninfo(pairs: readonly (readonly [string, string])[]): string {
  return pairs
    .map(([key, value]) => {
      if (!/^[a-z][a-z0-9_]*$/.test(key)) throw new BadArgumentError(`'${key}' is not a connection string keyword`);
      if (FORBIDDEN_KEYS.has(key)) {
        throw new BadArgumentError(`a connection string built by HandyRep never contains '${key}'; use a .pgpass file or [passwords]`);
      }
      return `${key}=${quoteConninfoValue(value)}`;
    })
    .join(' ');
}
