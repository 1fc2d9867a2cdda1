import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SettingsView } from '../capabilities/settings-view.js';
import { ErrorCodes, errorMessage, HandyRepError } from '../errors.js';

/** libpq's sslmode values, as `[handyrep] pg_sslmode` takes them. */
export const PG_SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** One of libpq's sslmode values. */
export type PgSslMode = (typeof PG_SSL_MODES)[number];

/**
 * How HandyRep talks TLS to PostgreSQL (`[handyrep] pg_sslmode`,
 * `pg_sslrootcert`, `pg_sslcert`, `pg_sslkey`), with the files already read.
 */
export interface PgTls {
  /** The sslmode. */
  mode: PgSslMode;
  /** The CA file the server's certificate is checked against, or '' for Node's public CAs. */
  rootCertFile: string;
  /** True when a connection asks for TLS first (prefer and stricter). */
  tlsFirst: boolean;
  /** True when a server without TLS may be talked to in clear (disable, allow, prefer). */
  plainAllowed: boolean;
  /** True when the server's certificate is checked against a CA (verify-ca, verify-full, or a root certificate with require or prefer). */
  verifiesChain: boolean;
  /** Options for `tls.connect` (and pg's `ssl`) to reach `host`. */
  options(host: string): ConnectionOptions;
}

/** SSLRequest: length 8, code 80877103 (protocol 1234.5679). */
export function sslRequestMessage(): Buffer {
  const message = Buffer.alloc(8);
  message.writeInt32BE(8, 0);
  message.writeInt32BE(80877103, 4);
  return message;
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new HandyRepError(ErrorCodes.CONFIG_INVALID, `[handyrep] ${key} '${file}' cannot be read: ${errorMessage(err)}`);
  }
}

function stringSetting(settings: SettingsView, key: string): string {
  const value = settings.get('handyrep', key);
  return typeof value === 'string' ? value : '';
}

/** The TLS settings of one mode and set of files; throws CONFIG_INVALID when a file cannot be read. */
export function pgTls(mode: PgSslMode, files: { rootCert?: string; cert?: string; key?: string } = {}): PgTls {
  const rootCertFile = files.rootCert ?? '';
  const ca = rootCertFile === '' ? undefined : readPem(rootCertFile, 'pg_sslrootcert');
  const cert = files.cert ? readPem(files.cert, 'pg_sslcert') : undefined;
  const key = files.key ? readPem(files.key, 'pg_sslkey') : undefined;
  // As libpq: require (and prefer) check the chain when a root certificate is given; only verify-full checks the name.
  const verifiesChain = mode === 'verify-ca' || mode === 'verify-full' || ((mode === 'require' || mode === 'prefer') && ca !== undefined);
  return {
    mode,
    rootCertFile,
    tlsFirst: mode === 'prefer' || mode === 'require' || mode === 'verify-ca' || mode === 'verify-full',
    plainAllowed: mode === 'disable' || mode === 'allow' || mode === 'prefer',
    verifiesChain,
    options(host: string): ConnectionOptions {
      const options: ConnectionOptions = { host, rejectUnauthorized: verifiesChain };
      if (ca !== undefined) options.ca = ca;
      if (cert !== undefined) options.cert = cert;
      if (key !== undefined) options.key = key;
      if (verifiesChain && mode !== 'verify-full') options.checkServerIdentity = () => undefined;
      return options;
    },
  };
}

/**
 * The TLS settings of `[handyrep]`, read through a plugin's settings view;
 * undefined when the view has no pg_sslmode (a test context), which means no TLS.
 */
export function pgTlsFromSettings(settings: SettingsView): PgTls | undefined {
  const mode = stringSetting(settings, 'pg_sslmode');
  if (!(PG_SSL_MODES as readonly string[]).includes(mode)) return undefined;
  return pgTls(mode as PgSslMode, { rootCert: stringSetting(settings, 'pg_sslrootcert'), cert: stringSetting(settings, 'pg_sslcert'), key: stringSetting(settings, 'pg_sslkey') });
}

/** Node's TLS error codes that mean the server's certificate was not accepted. */
const CERTIFICATE_CODES = /^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|ERR_SSL_|ERR_TLS_)/;

/**
 * An operator's explanation of a TLS failure (`err` from a TLS handshake or
 * from pg), or undefined when `err` is not about TLS.
 */
export function describeTlsFailure(err: unknown, tls: PgTls): string | undefined {
  const message = errorMessage(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (/does not support SSL/i.test(message)) {
    return `the server does not offer TLS, which pg_sslmode = ${tls.mode} requires`;
  }
  if (typeof code === 'string' && CERTIFICATE_CODES.test(code)) {
    const against = tls.rootCertFile === '' ? "Node's public CAs" : `pg_sslrootcert ${tls.rootCertFile}`;
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the server's certificate is not valid for this host name (pg_sslmode = ${tls.mode}): ${message}`;
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return `the TLS handshake failed (pg_sslmode = ${tls.mode}): ${message}`;
    return `the server's certificate could not be verified against ${against} (pg_sslmode = ${tls.mode}): ${message} (${code})`;
  }
  return undefined;
}
