import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { pgTls } from '@handyrep/plugin-sdk';
import { makeTestCertificates, opensslMissing } from '@handyrep/plugin-sdk/testing';
import type { TestCertificates } from '@handyrep/plugin-sdk/testing';
import { ping } from './ping.js';

/** AuthenticationOk. */
const AUTH_OK = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
const SSL_REQUEST_CODE = 80877103;

/**
 * A fake postmaster on 127.0.0.1: answers an SSLRequest with `tls` ('S' and a
 * TLS handshake with `certs`, or 'N'), then a StartupMessage with
 * AuthenticationOk. Records whether the startup came over TLS.
 */
async function fakePostmaster(tls: 'S' | 'N', certs?: TestCertificates): Promise<{ port: number; startups: { overTls: boolean }[]; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const startups: { overTls: boolean }[] = [];
  const serveStartup = (stream: Socket, overTls: boolean): void => {
    let received = Buffer.alloc(0);
    let answered = false;
    stream.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // Once: what follows AuthenticationOk is the client's Terminate.
      if (!answered && received.length >= 8 && received.length >= received.readInt32BE(0)) {
        answered = true;
        startups.push({ overTls });
        stream.end(AUTH_OK);
      }
    });
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      if (chunk.length !== 8 || chunk.readInt32BE(4) !== SSL_REQUEST_CODE) {
        socket.destroy();
        return;
      }
      socket.write(tls);
      if (tls === 'N' || !certs) {
        serveStartup(socket, false);
        return;
      }
      const secure = new TLSSocket(socket, { isServer: true, key: certs.key, cert: certs.cert });
      secure.on('error', () => {});
      serveStartup(secure, true);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    startups,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('poll_isready over TLS', { skip: opensslMissing() ?? false }, () => {
  let certs: TestCertificates;
  const request = (port: number) => ({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', timeoutMs: 3000 });

  before(() => {
    certs = makeTestCertificates();
  });

  after(() => certs?.dispose());

  it('verify-full: the startup message goes over TLS to a server whose certificate verifies', async () => {
    const server = await fakePostmaster('S', certs);
    try {
      const outcome = await ping({ ...request(server.port), tls: pgTls('verify-full', { rootCert: certs.caFile }) });
      assert.equal(outcome.state, 'accepting', outcome.details);
      assert.deepEqual(server.startups, [{ overTls: true }]);
    } finally {
      await server.close();
    }
  });

  it('another CA: bad_config saying why, and no startup message is sent at all', async () => {
    const server = await fakePostmaster('S', certs);
    try {
      const outcome = await ping({ ...request(server.port), tls: pgTls('verify-full', { rootCert: certs.otherCaFile }) });
      assert.equal(outcome.state, 'bad_config');
      assert.match(outcome.details, /no trusted TLS connection: the server's certificate could not be verified against pg_sslrootcert .*other-ca\.crt/);
      assert.deepEqual(server.startups, []);
    } finally {
      await server.close();
    }
  });

  it('a server without TLS: prefer goes on in clear on the same connection, require is bad_config', async () => {
    const server = await fakePostmaster('N');
    try {
      const preferred = await ping({ ...request(server.port), tls: pgTls('prefer') });
      assert.equal(preferred.state, 'accepting', preferred.details);
      assert.deepEqual(server.startups, [{ overTls: false }]);
      const required = await ping({ ...request(server.port), tls: pgTls('require') });
      assert.equal(required.state, 'bad_config');
      assert.match(required.details, /does not offer TLS, which pg_sslmode = require requires/);
      assert.equal(server.startups.length, 1, 'no startup message in clear under require');
    } finally {
      await server.close();
    }
  });
});
