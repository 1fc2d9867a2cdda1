import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { after, describe, it } from 'node:test';
import { ErrorCodes, hasErrorCode } from './errors.js';
import { trustedCas } from './trusted-cas.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('trustedCas', () => {
  const dir = mkdtempSync(join(tmpdir(), 'handyrep-cas-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("adds the file's PEM to Node's public CAs", () => {
    const file = join(dir, 'ca.crt');
    writeFileSync(file, PEM);
    const cas = trustedCas(file, '[plugins.x]');
    assert.deepEqual(cas, [...rootCertificates, PEM]);
  });

  it('refuses a file it cannot read, naming the section and the file', () => {
    const file = join(dir, 'missing.crt');
    assert.throws(
      () => trustedCas(file, '[plugins.x]'),
      (err: unknown) => {
        assert.ok(hasErrorCode(err, ErrorCodes.PLUGIN_CONFIG_INVALID));
        assert.match((err as Error).message, new RegExp(`^\\[plugins\\.x\\] ca_file '${file}' cannot be read: .*ENOENT`));
        return true;
      },
    );
  });

  it('refuses a file without a PEM certificate', () => {
    const file = join(dir, 'key.pem');
    writeFileSync(file, '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n');
    assert.throws(
      () => trustedCas(file, '[plugins.y]'),
      (err: unknown) => hasErrorCode(err, ErrorCodes.PLUGIN_CONFIG_INVALID) && (err as Error).message === `[plugins.y] ca_file '${file}' holds no PEM certificate`,
    );
  });
});
