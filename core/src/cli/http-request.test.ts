import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
