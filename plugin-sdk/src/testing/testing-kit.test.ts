import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { replicaExclusionReasons } from '../replica-eligibility.js';
import { testCandidate } from './test-candidate.js';
import { makeTestCertificates, opensslMissing } from './tls-certificates.js';

describe('testCandidate', () => {
  it('is an eligible replica by default, with fields overriding', () => {
    const a = testCandidate('a');
    assert.equal(a.name, 'a');
    assert.equal(a.failover_lag_limit, 1000);
    assert.deepEqual(replicaExclusionReasons(a), []);
    assert.deepEqual(replicaExclusionReasons(testCandidate('b', { nofailover: true, lag_mb: null })), ['nofailover is set']);
    assert.equal(testCandidate('c', { received_lsn_bytes: null }).received_lsn_bytes, null);
  });
});

const noOpenssl = opensslMissing();
describe('makeTestCertificates', { skip: noOpenssl }, () => {
  it('makes a server certificate for 127.0.0.1 and localhost signed by caFile, not by otherCaFile, and disposes of it', () => {
    const certs = makeTestCertificates();
    try {
      const server = new X509Certificate(certs.cert);
      const ca = new X509Certificate(readFileSync(certs.caFile));
      const other = new X509Certificate(readFileSync(certs.otherCaFile));
      assert.equal(readFileSync(certs.certFile, 'utf8'), certs.cert);
      assert.equal(readFileSync(certs.keyFile, 'utf8'), certs.key);
      assert.ok(server.checkIP('127.0.0.1'));
      assert.ok(server.checkHost('localhost'));
      assert.ok(server.verify(ca.publicKey));
      assert.ok(!server.verify(other.publicKey));
      assert.ok(ca.ca && other.ca && !server.ca);
    } finally {
      certs.dispose();
    }
    assert.ok(!existsSync(certs.dir));
  });
});
