/**
 * Quotes a value for a libpq `key=value` connection string: bare when plainly
 * safe, otherwise single-quoted with `\` and `'` backslash-escaped (an empty
 * value must be quoted).
 */
export function conninfoValue(value: string): string {
  if (value.includes('\0')) throw new TypeError('a connection string value cannot contain a NUL byte');
  if (/^[A-Za-z0-9_.,:/@+-]+$/.test(value)) return value;
  return `'${value.replace(/[\\']/g, (char) => `\\${char}`)}'`;
}

/** What a replica's primary_conninfo says. Never a password: that goes into `passfile`. */
export interface PrimaryConninfoParts {
  /** Upstream host. */
  host: string;
  /** Upstream port. */
  port: number;
  /** Replication user. */
  user: string;
  /** The replica's name, as pg_stat_replication on the upstream shows it. */
  applicationName: string;
  /** Absolute path of the passfile holding the password, when one is written. */
  passfile: string | undefined;
}

/** The primary_conninfo text for a replica. */
export function primaryConninfo(parts: PrimaryConninfoParts): string {
  const pairs: [string, string][] = [
    ['host', parts.host],
    ['port', String(parts.port)],
    ['user', parts.user],
  ];
  if (parts.passfile !== undefined) pairs.push(['passfile', parts.passfile]);
  pairs.push(['application_name', parts.applicationName]);
  return pairs.map(([key, value]) => `${key}=${conninfoValue(value)}`).join(' ');
}

function passfileField(value: string): string {
  if (/[\n\r\0]/.test(value)) throw new TypeError('a passfile field cannot contain a line break or NUL byte');
  return value.replace(/[\\:]/g, (char) => `\\${char}`);
}

/**
 * One passfile line matching any host, port and database for `user`: the
 * file serves only this replica's upstream connection, and a wildcard host
 * keeps it valid when HandyRep later points the replica at another master.
 */
export function passfileLine(user: string, password: string): string {
  return `*:*:*:${passfileField(user)}:${passfileField(password)}\n`;
}
