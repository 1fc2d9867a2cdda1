import type { SettingsView } from '../capabilities/settings-view.js';

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
  /** `sslmode` and `sslrootcert` for the replica's connection (`[handyrep] replication_sslmode`, `replication_sslrootcert`), when asked for. */
  tls?: readonly (readonly [string, string])[];
}

/**
 * The TLS keywords a connection made from a database host gets
 * (`[handyrep] replication_sslmode` and `replication_sslrootcert`): none when
 * replication_sslmode is empty.
 */
export function replicationTlsPairs(settings: SettingsView): [string, string][] {
  const mode = settings.get('handyrep', 'replication_sslmode');
  if (typeof mode !== 'string' || mode === '') return [];
  const pairs: [string, string][] = [['sslmode', mode]];
  const rootCert = settings.get('handyrep', 'replication_sslrootcert');
  if (typeof rootCert === 'string' && rootCert !== '') pairs.push(['sslrootcert', rootCert]);
  return pairs;
}

/** The primary_conninfo text for a replica. */
export function primaryConninfo(parts: PrimaryConninfoParts): string {
  const pairs: (readonly [string, string])[] = [
    ['host', parts.host],
    ['port', String(parts.port)],
    ['user', parts.user],
  ];
  if (parts.passfile !== undefined) pairs.push(['passfile', parts.passfile]);
  pairs.push(...(parts.tls ?? []));
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
