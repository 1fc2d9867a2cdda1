import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sendHttpRequest, TransportError } from './http-request.js';

// A loopback server stands in for the daemon: the point is the transport's failure handling.
describe('HTTP transport', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((request, response) => {
      if (request.url === '/slow') return; // never answers
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ method: request.method, url: request.url, body, auth: request.headers.authorization ?? null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends method, headers and body and returns status and body', async () => {
    const response = await sendHttpRequest({ url: new URL(`${base}/pause`), method: 'POST', headers: { authorization: 'Basic eDp5', 'content-type': 'application/json' }, body: '{"a":"é"}', timeoutMs: 5000 });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { method: 'POST', url: '/pause', body: '{"a":"é"}', auth: 'Basic eDp5' });
  });

  it('gives up at the deadline with a timeout failure', async () => {
    const started = Date.now();
    await assert.rejects(
      sendHttpRequest({ url: new URL(`${base}/slow`), method: 'GET', headers: {}, timeoutMs: 200 }),
      (err: unknown) => err instanceof TransportError && err.failure === 'timeout',
    );
    assert.ok(Date.now() - started < 3000);
  });

  it('reports a refused connection as such', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(
      sendHttpRequest({ url: new URL(`http://127.0.0.1:${port}/get_status`), method: 'GET', headers: {}, timeoutMs: 5000 }),
      (err: unknown) => err instanceof TransportError && err.failure === 'refused',
    );
  });

  it('reports a TLS handshake with a plain HTTP server as a TLS failure', async () => {
    await assert.rejects(
      sendHttpRequest({ url: new URL(`${base.replace('http:', 'https:')}/get_status`), method: 'GET', headers: {}, timeoutMs: 5000 }),
      (err: unknown) => err instanceof TransportError && err.failure === 'tls',
    );
  });
});

describe('HTTPS transport with a private CA', () => {
  let dir: string;
  let server: ReturnType<typeof createHttpsServer>;
  let url: URL;
  let cert: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'handyrep-cli-tls-'));
    // A self-signed certificate for 127.0.0.1 is its own CA: trusted only when given as --ca-file.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'));
    server = createHttpsServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, (_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end('"pg1"');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/get_master_name`);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the certificate without the CA and accepts it with it', async () => {
    await assert.rejects(
      sendHttpRequest({ url, method: 'GET', headers: {}, timeoutMs: 5000 }),
      (err: unknown) => err instanceof TransportError && err.failure === 'tls',
    );
    const response = await sendHttpRequest({ url, method: 'GET', headers: {}, ca: cert, timeoutMs: 5000 });
    assert.equal(response.status, 200);
    assert.equal(response.body, '"pg1"');
  });
});
