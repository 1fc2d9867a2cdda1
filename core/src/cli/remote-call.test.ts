import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiFunction } from '../api/api-functions.js';
import type { ApiFunction } from '../api/api-functions.js';
import type { FunctionCall } from './cli-arguments.js';
import { TransportError } from './http-request.js';
import type { HttpRequest } from './http-request.js';
import { buildHttpRequest, callRemote, decodeAnswer, defaultTimeoutSeconds, functionUrl } from './remote-call.js';
import type { RemoteSettings } from './remote-call.js';
import { UsageError } from './usage-error.js';

function fn(spec: string): ApiFunction {
  const found = apiFunction(spec);
  assert.ok(found, spec);
  return found;
}

const settings: RemoteSettings = { baseUrl: new URL('http://127.0.0.1:8080'), username: 'admin', password: 'sécret:1' };
const call = (spec: string, args: Record<string, unknown> = {}): FunctionCall => ({ fn: fn(spec), args });

describe('remote calls', () => {
  it('sends plain reads by GET with a query string and Basic credentials, reads that check servers by POST', () => {
    const checking = buildHttpRequest(settings, call('get_server_info', { servername: 'pg2', verify: true }));
    assert.equal(checking.method, 'POST');
    assert.deepEqual(JSON.parse(checking.body ?? ''), { servername: 'pg2', verify: true });
    assert.equal(buildHttpRequest(settings, call('get_status', { check_type: 'verify' })).method, 'POST');
    assert.equal(buildHttpRequest(settings, call('verify_all')).method, 'POST');
    const request = buildHttpRequest(settings, call('get_server_info', { servername: 'pg2', verify: false }));
    assert.equal(request.method, 'GET');
    assert.equal(request.url.href, 'http://127.0.0.1:8080/get_server_info?servername=pg2&verify=false');
    assert.equal(request.body, undefined);
    const decoded = Buffer.from(String(request.headers['authorization']).replace(/^Basic /, ''), 'base64').toString('utf8');
    assert.equal(decoded, 'admin:sécret:1');
    assert.equal(request.timeoutMs, 60_000);
  });

  it('sends actions by POST with a JSON body of the spec names', () => {
    const request = buildHttpRequest(settings, call('alter_server_def', { servername: 'pg2', serverprops: { port: 5433 } }));
    assert.equal(request.method, 'POST');
    assert.equal(request.url.href, 'http://127.0.0.1:8080/alter_server_def');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request.body ?? ''), { servername: 'pg2', serverprops: { port: 5433 } });
    assert.equal(buildHttpRequest(settings, call('pause')).body, '{}');
  });

  it('sends an empty password rather than none (the daemon wants Basic even under zero_auth)', () => {
    const request = buildHttpRequest({ ...settings, username: '', password: undefined }, call('get_status'));
    assert.equal(request.headers['authorization'], `Basic ${Buffer.from(':').toString('base64')}`);
  });

  it('keeps a path prefix of the base URL', () => {
    assert.equal(functionUrl(new URL('https://h:1/handyrep/'), 'poll').href, 'https://h:1/handyrep/poll');
    assert.equal(functionUrl(new URL('https://h:1'), 'poll').href, 'https://h:1/poll');
  });

  it('gives clone and failover longer default deadlines; --timeout overrides all', () => {
    assert.equal(defaultTimeoutSeconds(fn('get_status')), 60);
    assert.equal(defaultTimeoutSeconds(fn('clone')), 3600);
    assert.equal(defaultTimeoutSeconds(fn('manual_failover')), 600);
    assert.equal(buildHttpRequest(settings, call('clone', { replicaserver: 'pg3' })).timeoutMs, 3_600_000);
    assert.equal(buildHttpRequest({ ...settings, timeoutSeconds: 2.5 }, call('clone', { replicaserver: 'pg3' })).timeoutMs, 2500);
  });

  it('refuses library-only functions without sending anything', async () => {
    let sent = 0;
    await assert.rejects(
      callRemote(settings, call('failover_check'), async () => {
        sent += 1;
        return { status: 200, contentType: 'application/json', body: '{}' };
      }),
      (err: unknown) => err instanceof UsageError && /library only/.test(err.message),
    );
    assert.equal(sent, 0);
  });

  it('decodes JSON answers with their status, and calls anything else a transport failure', async () => {
    const answer = await callRemote(settings, call('pause'), async (request: HttpRequest) => {
      assert.equal(request.method, 'POST');
      return { status: 403, contentType: 'application/json', body: '{"result":"FAIL","details":"read-only"}' };
    });
    assert.deepEqual(answer, { status: 403, value: { result: 'FAIL', details: 'read-only' } });
    assert.deepEqual(decodeAnswer(new URL('http://h/x'), { status: 200, contentType: 'application/json', body: 'null' }), { status: 200, value: null });
    assert.throws(
      () => decodeAnswer(new URL('http://h/x'), { status: 502, contentType: 'text/html', body: '<html>Bad gateway</html>' }),
      (err: unknown) => err instanceof TransportError && /HTTP 502 .* \(not JSON\).*Bad gateway/.test(err.message),
    );
  });
});
