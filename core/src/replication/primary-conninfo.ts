import { quoteConninfoValue } from '../remote/libpq-conninfo.js';

/**
 * Parses a libpq key/value connection string (the form primary_conninfo
 * uses): `key=value` pairs, values optionally single-quoted with `\'` and
 * `\\` escapes. URIs are not accepted.
 */
export function parseConninfo(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i] ?? '')) i += 1;
  };
  for (;;) {
    skipSpace();
    if (i >= text.length) return pairs;
    const keyStart = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i] ?? '')) i += 1;
    const key = text.slice(keyStart, i);
    skipSpace();
    if (key === '' || text[i] !== '=') throw new TypeError(`malformed connection string near position ${keyStart}`);
    i += 1;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      i += 1;
      for (;;) {
        if (i >= text.length) throw new TypeError('unterminated quoted value in connection string');
        const char = text[i] ?? '';
        if (char === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (char === "'") {
          i += 1;
          break;
        } else {
          value += char;
          i += 1;
        }
      }
    } else {
      while (i < text.length && !/\s/.test(text[i] ?? '')) {
        if (text[i] === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else {
          value += text[i];
          i += 1;
        }
      }
    }
    pairs.push([key, value]);
  }
}

/** Formats pairs as a libpq connection string, quoting every value. */
export function formatConninfo(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([key, value]) => `${key}=${quoteConninfoValue(value)}`).join(' ');
}

/**
 * The replica's own primary_conninfo pointed at a new upstream: host and port
 * replaced, `hostaddr` dropped, everything else (user, password, SSL
 * settings, application_name) kept as the operator or the clone wrote it.
 */
export function retargetConninfo(current: string, host: string, port: number, applicationName: string): string {
  const kept = parseConninfo(current).filter(([key]) => !['host', 'hostaddr', 'port'].includes(key));
  const pairs: [string, string][] = [['host', host], ['port', String(port)], ...kept];
  if (!pairs.some(([key]) => key === 'application_name')) pairs.push(['application_name', applicationName]);
  return formatConninfo(pairs);
}

/**
 * The one host and port a primary_conninfo points at (libpq's default port
 * 5432 when it names none); undefined for an empty one, one without a host,
 * or a multi-host list, whose upstream cannot be told from the text.
 */
export function conninfoUpstream(text: string): { host: string; port: number } | undefined {
  let pairs: [string, string][];
  try {
    pairs = parseConninfo(text);
  } catch {
    return undefined;
  }
  const value = (key: string): string | undefined => pairs.filter(([name]) => name === key).at(-1)?.[1];
  const host = value('host') ?? value('hostaddr');
  const port = Number(value('port') ?? '5432');
  if (host === undefined || host === '' || host.includes(',') || !Number.isInteger(port)) return undefined;
  return { host, port };
}

/**
 * A SQL string literal that means the same text whatever the session's
 * standard_conforming_strings is: an escape string (E'...') with `\` and `'`
 * doubled, which the server reads identically with the setting on or off.
 */
export function sqlLiteral(value: string): string {
  if (value.includes('\0')) throw new TypeError('a SQL literal cannot contain a NUL byte');
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * `ALTER SYSTEM SET name = 'value'` as one statement on its own (ALTER SYSTEM
 * cannot run in a transaction block, so it must never share a query string
 * with another statement, and it takes no bind parameters).
 */
export function alterSystemStatement(name: string, value: string): string {
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(name)) throw new TypeError(`'${name}' is not a configuration parameter name`);
  return `ALTER SYSTEM SET ${name} = ${sqlLiteral(value)}`;
}
