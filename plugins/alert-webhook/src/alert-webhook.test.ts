import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { ErrorCodes } from '@handyrep/plugin-sdk';
import type { Alert, AlertPlugin } from '@handyrep/plugin-sdk';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { TestContext } from '@handyrep/plugin-sdk/testing';
import type { AlertWebhookConfig } from './config.js';
import type { WebhookPayload } from './payload.js';
import { plugin } from './plugin.js';
import { HttpReceiver } from './test-support/http-receiver.js';
import type { Reply, ReceivedRequest } from './test-support/http-receiver.js';

const TOKEN = 'tok-3f9a1c-very-secret';
const AT = Date.UTC(2026, 4, 1, 12, 30, 0);
const ALERT: Alert = {
  type: 'failover_started',
  severity: 'critical',
  message: 'failover from db1 started (automatic)',
  server: 'db1',
  cluster_status: 'down',
  at: AT,
};

const receivers: HttpReceiver[] = [];
after(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function receiver(reply: (request: ReceivedRequest, n: number) => Reply): Promise<HttpReceiver> {
  const started = await HttpReceiver.start(reply);
  receivers.push(started);
  return started;
}

async function setup(
  config: Partial<AlertWebhookConfig>,
  secrets: Record<string, string> = { hook_token: TOKEN },
): Promise<{ sender: AlertPlugin; kit: TestContext<AlertWebhookConfig> }> {
  const kit = createTestContext<AlertWebhookConfig>({
    name: 'alert_webhook',
    config: {
      url: '',
      url_key: '',
      cluster_name: 'prod-eu',
      headers: {},
      bearer_token_key: '',
      timeout_ms: 2_000,
      retries: 2,
      retry_backoff_ms: 500,
      min_severity: 'info',
      ...config,
    },
    secrets,
  });
  return { sender: await plugin.create(kit.context), kit };
}

function assertNoToken(...texts: unknown[]): void {
  for (const text of texts) {
    const serialized = typeof text === 'string' ? text : JSON.stringify(text);
    assert.ok(!serialized.includes(TOKEN), `token leaked into: ${serialized}`);
  }
}

describe('alert_webhook against a local HTTP receiver', () => {
  it('delivers: one JSON POST with the payload, bearer token and extra headers', async () => {
    const hook = await receiver(() => ({ status: 204 }));
    const { sender, kit } = await setup({ url: hook.url('/alerts?src=hr'), bearer_token_key: 'hook_token', headers: { 'X-Team': 'dba' } });
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal((result as { sent?: boolean }).sent, true);
    assert.equal((result as { attempts?: number }).attempts, 1);
    assert.equal((result as { status?: number }).status, 204);
    assert.equal(hook.requests.length, 1);
    const request = hook.requests[0] as ReceivedRequest;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/alerts?src=hr');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['authorization'], `Bearer ${TOKEN}`);
    assert.equal(request.headers['x-team'], 'dba');
    const payload = JSON.parse(request.body) as WebhookPayload;
    assert.deepEqual(payload, {
      type: 'failover_started',
      severity: 'critical',
      message: 'failover from db1 started (automatic)',
      server: 'db1',
      cluster_status: 'down',
      cluster_name: 'prod-eu',
      at: '2026-05-01T12:30:00.000Z',
    });
    assert.match(result.details, /delivered to http:\/\/127\.0\.0\.1:\d+\/alerts: HTTP 204$/);
    assert.doesNotMatch(result.details, /src=hr/);
    assertNoToken(result, kit.logger.text());
  });

  it('no server or cluster status: null in the payload; no Authorization without bearer_token_key', async () => {
    const hook = await receiver(() => ({ status: 200, body: 'ok' }));
    const { sender } = await setup({ url: hook.url() });
    const result = await sender.send({ type: 'internal_error', severity: 'critical', message: 'loop threw', at: AT });
    assert.equal(result.result, 'SUCCESS', result.details);
    const payload = JSON.parse(hook.requests[0]?.body ?? '{}') as WebhookPayload;
    assert.equal(payload.server, null);
    assert.equal(payload.cluster_status, null);
    assert.equal(hook.requests[0]?.headers['authorization'], undefined);
  });

  it('retries after a 500 with backoff, then delivers', async () => {
    const hook = await receiver((_, n) => (n === 1 ? { status: 500, body: 'database is locked' } : { status: 200 }));
    const { sender, kit } = await setup({ url: hook.url(), retries: 3, retry_backoff_ms: 700 });
    const before = kit.clock.now();
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal((result as { attempts?: number }).attempts, 2);
    assert.match(result.details, /\(attempt 2\)$/);
    assert.equal(hook.requests.length, 2);
    assert.equal(hook.requests[0]?.body, hook.requests[1]?.body);
    assert.equal(kit.clock.now() - before, 700);
    assert.ok(kit.logger.lines.some((line) => line.level === 'warn' && /HTTP 500: database is locked/.test(line.message)));
  });

  it('gives up after retries + 1 attempts, backoff doubling, FAIL listing every attempt', async () => {
    const hook = await receiver(() => ({ status: 503, body: 'maintenance' }));
    const { sender, kit } = await setup({ url: hook.url(), retries: 2, retry_backoff_ms: 100 });
    const before = kit.clock.now();
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'FAIL');
    assert.equal((result as { sent?: boolean }).sent, false);
    assert.equal((result as { attempts?: number }).attempts, 3);
    assert.equal((result as { status?: number }).status, 503);
    assert.equal(hook.requests.length, 3);
    assert.equal(kit.clock.now() - before, 100 + 200);
    assert.match(result.details, /NOT delivered .* after 3 attempts: attempt 1: HTTP 503: maintenance; attempt 2: .*; attempt 3: HTTP 503/);
  });

  it('a 4xx other than 408/429 is not retried', async () => {
    const hook = await receiver(() => ({ status: 401, body: 'bad token' }));
    const { sender } = await setup({ url: hook.url(), retries: 3 });
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'FAIL');
    assert.equal(hook.requests.length, 1);
    assert.match(result.details, /after 1 attempt: attempt 1: HTTP 401: bad token$/);
  });

  it('a 429 is retried', async () => {
    const hook = await receiver((_, n) => (n < 3 ? { status: 429 } : { status: 202 }));
    const { sender } = await setup({ url: hook.url(), retries: 2, retry_backoff_ms: 0 });
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(hook.requests.length, 3);
  });

  it('a redirect is reported, not followed', async () => {
    const hook = await receiver((request) => (request.url === '/hook' ? { status: 307, headers: { location: '/elsewhere' } } : { status: 200 }));
    const { sender } = await setup({ url: hook.url(), retries: 2 });
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'FAIL');
    assert.equal(hook.requests.length, 1);
    assert.match(result.details, /redirect \(not followed/);
  });

  it('a receiver that never answers: each attempt is aborted after timeout_ms, FAIL in bounded time', async () => {
    const hook = await receiver(() => 'hang');
    const { sender } = await setup({ url: hook.url(), timeout_ms: 300, retries: 1, retry_backoff_ms: 0 });
    const started = performance.now();
    const result = await sender.send(ALERT);
    const elapsed = performance.now() - started;
    assert.equal(result.result, 'FAIL');
    assert.equal(hook.requests.length, 2);
    assert.match(result.details, /attempt 1: no answer within 300 ms; attempt 2: no answer within 300 ms$/);
    assert.ok(elapsed >= 550, `took ${elapsed} ms`);
    assert.ok(elapsed < 3_000, `took ${elapsed} ms`);
  });

  it('a refused connection: FAIL saying so, retried', async () => {
    const port = await closedPort();
    const { sender } = await setup({ url: `http://127.0.0.1:${port}/hook`, retries: 1, retry_backoff_ms: 0 });
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'FAIL');
    assert.equal((result as { attempts?: number }).attempts, 2);
    assert.match(result.details, /cannot connect: ECONNREFUSED/);
  });

  it('never logs or returns the token, even when the receiver echoes it back', async () => {
    const hook = await receiver((request) => ({ status: 500, body: `rejected header ${String(request.headers['authorization'])}` }));
    const { sender, kit } = await setup({ url: hook.url(), bearer_token_key: 'hook_token', retries: 1, retry_backoff_ms: 0 });
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /rejected header Bearer \[redacted\]/);
    assertNoToken(result, kit.logger.text());
  });

  it('url_key: the URL comes from [passwords] and only its origin is shown', async () => {
    const hook = await receiver(() => ({ status: 500, body: 'nope' }));
    const secretUrl = hook.url('/services/T000/B000/sEcReTpAtH');
    const { sender, kit } = await setup({ url_key: 'hook_url', retries: 0 }, { hook_url: secretUrl });
    const result = await sender.send(ALERT);
    assert.equal(hook.requests[0]?.url, '/services/T000/B000/sEcReTpAtH');
    assert.match(result.details, /NOT delivered to http:\/\/127\.0\.0\.1:\d+\/… after/);
    for (const text of [result.details, kit.logger.text()]) assert.ok(!text.includes('sEcReTpAtH'), text);
  });

  it('skips alerts below min_severity without a request', async () => {
    const hook = await receiver(() => ({ status: 200 }));
    const { sender } = await setup({ url: hook.url(), min_severity: 'critical' });
    const result = await sender.send({ ...ALERT, severity: 'warning' });
    assert.equal(result.result, 'SUCCESS');
    assert.equal((result as { sent?: boolean }).sent, false);
    assert.equal(hook.requests.length, 0);
  });
});

describe('alert_webhook start-up checks', () => {
  it('refuses to start without a URL, with both url and url_key, or with a bad URL', async () => {
    await assert.rejects(setup({}), /exactly one of url and url_key/);
    await assert.rejects(setup({ url: 'http://127.0.0.1/x', url_key: 'k' }), /exactly one of url and url_key/);
    await assert.rejects(setup({ url_key: 'hook_url' }, { hook_url: 'ftp://127.0.0.1/x' }), /must be http or https/);
    await assert.rejects(setup({ url_key: 'hook_url' }, { hook_url: 'not a url' }), /\[passwords\] hook_url is not a valid URL/);
  });

  it('refuses to start when a named [passwords] key is missing, naming it', async () => {
    await assert.rejects(setup({ url: 'http://127.0.0.1/x', bearer_token_key: 'nope' }, {}), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.SECRET_MISSING);
      assert.match(err.message, /nope/);
      return true;
    });
    await assert.rejects(setup({ url_key: 'missing_url' }, {}), /missing_url/);
  });

  it('refuses to start with an invalid header name', async () => {
    await assert.rejects(setup({ url: 'http://127.0.0.1/x', headers: { 'bad header': 'x' } }), /headers/);
  });

  it('warns when a token would travel over plain http', async () => {
    const { kit } = await setup({ url: 'http://127.0.0.1:9/x', bearer_token_key: 'hook_token' });
    assert.ok(kit.logger.lines.some((line) => line.level === 'warn' && /unencrypted/.test(line.message)));
  });

  it('loads through the real core loader with its defaults', async () => {
    const report = await verifyPlugin('alert_webhook', { kind: 'alert', config: { url: 'https://hooks.example.org/handyrep' } });
    assert.deepEqual(report.config, {
      url: 'https://hooks.example.org/handyrep',
      url_key: '',
      cluster_name: '',
      headers: {},
      bearer_token_key: '',
      timeout_ms: 5_000,
      retries: 2,
      retry_backoff_ms: 1_000,
      min_severity: 'info',
    });
    await assert.rejects(verifyPlugin('alert_webhook', { kind: 'alert', config: { url: 'ftp://x/y' } }), /url/);
    await assert.rejects(verifyPlugin('alert_webhook', { kind: 'alert', config: { url: 'https://x/y', retries: 99 } }), /retries/);
  });
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
