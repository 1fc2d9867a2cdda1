import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * For tests of a plugin that talks TLS (SMTP, LDAP, HTTPS, ...) to a local
 * test server: a throw-away CA and a server certificate it signed, valid for
 * 127.0.0.1 and localhost, made with the `openssl` command. Skip such tests
 * when `opensslMissing()` returns a reason:
 *
 * ```ts
 * const noOpenssl = opensslMissing();
 * describe('TLS', { skip: noOpenssl }, () => {
 *   let certs: TestCertificates;
 *   before(() => { certs = makeTestCertificates(); });
 *   after(() => certs?.dispose());
 *   // serve with certs.cert / certs.key, configure the plugin's ca_file = certs.caFile
 * });
 * ```
 */
export interface TestCertificates {
  /** Directory holding the files; remove with `dispose`. */
  dir: string;
  /** CA certificate file (PEM), what a client is told to trust. */
  caFile: string;
  /** A second CA that signed nothing here, for "wrong CA" cases. */
  otherCaFile: string;
  /** Server certificate (PEM). */
  cert: string;
  /** Server private key (PEM). */
  key: string;
  /** Server certificate file (PEM). */
  certFile: string;
  /** Server private key file (PEM). */
  keyFile: string;
  /** Client certificates the CA signed, by common name (`clients` option), for certificate authentication. */
  clients: Record<string, { certFile: string; keyFile: string }>;
  /** Removes the directory. */
  dispose(): void;
}

/** What the certificates are made for. */
export interface TestCertificateOptions {
  /** IP addresses the server certificate is valid for (default 127.0.0.1). */
  ipAddresses?: readonly string[];
  /** Host names it is valid for (default localhost). */
  dnsNames?: readonly string[];
  /** Common names of client certificates to make (e.g. a PostgreSQL role for `cert` authentication). */
  clients?: readonly string[];
}

/** Why certificates cannot be made here, or undefined when openssl is available. */
export function opensslMissing(): string | undefined {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 ? undefined : `openssl is not available (${probe.error?.message ?? probe.stderr.trim()})`;
}

/** Makes a CA, a server certificate and any client certificates with openssl in a new temporary directory (valid two days). */
export function makeTestCertificates(options: TestCertificateOptions = {}): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'handyrep-tls-'));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe', timeout: 30_000 });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    openssl('req', '-x509', ...ec, '-keyout', file(`${ca}.key`), '-out', file(`${ca}.crt`), '-days', '2', '-subj', `/CN=HandyRep test ${ca}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  }
  openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1');
  const names = [...(options.ipAddresses ?? ['127.0.0.1']).map((ip) => `IP:${ip}`), ...(options.dnsNames ?? ['localhost']).map((dns) => `DNS:${dns}`)];
  writeFileSync(
    file('server.ext'),
    `subjectAltName=${names.join(',')}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
  );
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('server.crt'), '-days', '2', '-extfile', file('server.ext'));
  const clients: TestCertificates['clients'] = {};
  (options.clients ?? []).forEach((commonName, index) => {
    const base = `client-${index}`;
    openssl('req', ...ec, '-keyout', file(`${base}.key`), '-out', file(`${base}.csr`), '-subj', `/CN=${commonName}`);
    writeFileSync(file(`${base}.ext`), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    openssl('x509', '-req', '-in', file(`${base}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
      '-out', file(`${base}.crt`), '-days', '2', '-extfile', file(`${base}.ext`));
    clients[commonName] = { certFile: file(`${base}.crt`), keyFile: file(`${base}.key`) };
  });
  return {
    dir,
    caFile: file('ca.crt'),
    otherCaFile: file('other-ca.crt'),
    cert: readFileSync(file('server.crt'), 'utf8'),
    key: readFileSync(file('server.key'), 'utf8'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    clients,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
