import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { hasErrorCode, ErrorCodes } from '@handyrep/plugin-sdk';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { TestServer } from '@handyrep/plugin-sdk/testing';
import type { PollIsreadyConfig } from './config.js';
import { plugin } from './plugin.js';

/** A backend that asks every client for a SCRAM password and records the startup parameters it got. */
let server: Server;
let port: number;
const startups: string[] = [];
const sockets = new Set<Socket>();

before(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      startups.push(chunk.toString('utf8', 8).replace(/\0/g, '|'));
      const request = Buffer.alloc(9);
      request.write('R', 0, 'latin1');
      request.writeInt32BE(8, 1);
      request.writeInt32BE(10, 5);
      socket.write(request);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  server.close();
  await once(server, 'close');
});

const defaults: PollIsreadyConfig = { timeout_ms: 2000, user: '', database: '' };

function poller(servers: TestServer[], config: Partial<PollIsreadyConfig> = {}, settings: Record<string, unknown> = {}) {
  const test = createTestContext<PollIsreadyConfig>({ name: 'poll_isready', config: { ...defaults, ...config }, servers, settings: { handyrep: settings } });
  return { test, instance: plugin.create(test.context) };
}

describe('poll_isready plugin', () => {
  it('passes the real core loader with its schema defaults', async () => {
    const report = await verifyPlugin('poll_isready', { kind: 'poll', config: {} });
    assert.equal(report.kind, 'poll');
    assert.equal(report.packageName, '@handyrep/plugin-poll-isready');
    assert.deepEqual(report.config, { timeout_ms: 2000, user: '', database: '' });
  });

  it('rejects a config the schema forbids', async () => {
    await assert.rejects(verifyPlugin('poll_isready', { kind: 'poll', config: { timeout_ms: 0 } }), /timeout_ms/);
    await assert.rejects(verifyPlugin('poll_isready', { kind: 'poll', config: { timeout: 5 } }), /timeout/);
  });

  it('is SUCCESS/accepting for a server that asks for authentication, with duration and no in_recovery', async () => {
    const { instance } = poller([{ name: 'db1', hostname: '127.0.0.1', port }], {}, { postgres_superuser: 'admin', handyrep_db: 'hr' });
    const result = await (await instance).poll('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.equal(result.state, 'accepting');
    assert.equal(result.in_recovery, undefined);
    assert.equal('failure' in result, false);
    assert.equal(typeof result.duration_ms, 'number');
    assert.ok(result.duration_ms >= 0 && result.duration_ms < 2000);
    assert.match(result.details, /^db1 \(127\.0\.0\.1:\d+\): accepting/);
    assert.match(startups.at(-1) ?? '', /^user\|admin\|database\|hr\|/);
  });

  it('names the configured role and database over the core settings', async () => {
    const { instance } = poller([{ name: 'db1', hostname: '127.0.0.1', port }], { user: 'pinger', database: 'pingdb' }, { postgres_superuser: 'admin' });
    await (await instance).poll('db1');
    assert.match(startups.at(-1) ?? '', /^user\|pinger\|database\|pingdb\|/);
  });

  it('falls back to postgres/postgres when the core settings are absent', async () => {
    const { instance } = poller([{ name: 'db1', hostname: '127.0.0.1', port }]);
    await (await instance).poll('db1');
    assert.match(startups.at(-1) ?? '', /^user\|postgres\|database\|postgres\|/);
  });

  it('is FAIL/bad_config without any network attempt for an impossible hostname or port', async () => {
    const { instance, test } = poller([
      { name: 'spaced', hostname: 'not a host', port: 5432 },
      { name: 'portless', hostname: '127.0.0.1', port: 0 },
    ]);
    const poll = await instance;
    for (const name of ['spaced', 'portless']) {
      const result = await poll.poll(name);
      assert.equal(result.result, 'FAIL', name);
      assert.equal(result.state, 'bad_config', name);
      assert.equal(result.failure, 'error', name);
      assert.ok(result.duration_ms < 500, `${name} took ${result.duration_ms} ms`);
    }
    assert.equal(test.logger.lines.filter((line) => line.level === 'debug').length, 2);
  });

  it('is FAIL/no_response for a refusing port', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const refusing = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const { instance } = poller([{ name: 'down', hostname: '127.0.0.1', port: refusing }]);
    const result = await (await instance).poll('down');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.state, 'no_response');
    assert.equal(result.failure, 'refused');
    assert.match(result.details, /refused/);
  });

  it('is FAIL/no_response/timeout for a server that accepts TCP and never answers', async () => {
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { instance, test } = poller([{ name: 'hung', hostname: '127.0.0.1', port: (silent.address() as AddressInfo).port }], { timeout_ms: 200 });
    const result = await (await instance).poll('hung');
    silent.close();
    assert.equal(result.result, 'FAIL');
    assert.equal(result.state, 'no_response');
    assert.equal(result.failure, 'timeout');
    assert.ok(result.duration_ms >= 190 && result.duration_ms < 1500, `${result.duration_ms} ms`);
    assert.equal(test.logger.lines[0]?.fields?.['failure'], 'timeout');
  });

  it('throws UnknownServerError for a server the registry does not know', async () => {
    const { instance } = poller([]);
    await assert.rejects((await instance).poll('ghost'), (err: unknown) => hasErrorCode(err, ErrorCodes.UNKNOWN_SERVER));
  });
});
