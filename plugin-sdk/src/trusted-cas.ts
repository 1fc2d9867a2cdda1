import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ErrorCodes, errorMessage, HandyRepError } from './errors.js';

/**
 * The CAs a TLS client should trust given a plugin's `ca_file` setting: Node's
 * public CAs plus the PEM certificate(s) in `file`. Throws
 * PLUGIN_CONFIG_INVALID, prefixed with `section` (e.g. `[plugins.alert_email]`),
 * when the file cannot be read or holds no PEM certificate, so a plugin
 * reading it at creation stops HandyRep at start rather than at the first
 * connection.
 */
export function trustedCas(file: string, section: string): string[] {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `${section} ca_file '${file}' cannot be read: ${errorMessage(err)}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `${section} ca_file '${file}' holds no PEM certificate`);
  }
  // `ca` replaces Node's trust store; keep the public CAs so a private CA is an addition, not a restriction.
  return [...rootCertificates, pem];
}
