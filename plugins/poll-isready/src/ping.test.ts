import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { ping, replyOutcome, socketErrorOutcome } from './ping.js';
import type { PingRequest } from './ping.js';

/** A fake backend on 127.0.0.1 that answers each connection with `answer`, recording what the client sent. */
interface FakeBackend {
  port: number;
  /** Bytes each connection sent, complete once it closed. */
  sessions: { received: Buffer; closed: Promise<void> }[];
  close(): Promise<void>;
}

async function fakeBackend(answer: (socket: Socket) => void): Promise<FakeBackend> {
  const sockets = new Set<Socket>();
  const sessions: FakeBackend['sessions'] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const session = { received: Buffer.alloc(0), closed: once(socket, 'close').then(() => undefined) };
    sessions.push(session);
    socket.on('error', () => {});
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      session.received = Buffer.concat([session.received, chunk]);
      // Answer once the whole StartupMessage is in, as a postmaster does.
      if (!answered && session.received.length >= 4 && session.received.length >= session.received.readInt32BE(0)) {
        answered = true;
        answer(socket);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

function authRequest(code: number, extra = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(4);
  body.writeInt32BE(code, 0);
  return message('R', Buffer.concat([body, extra]));
}

function errorResponse(sqlState: string, text: string): Buffer {
  return message('E', Buffer.from(`SFATAL\0VFATAL\0C${sqlState}\0M${text}\0\0`, 'utf8'));
}

const backends: FakeBackend[] = [];
async function backend(answer: (socket: Socket) => void): Promise<FakeBackend> {
  const created = await fakeBackend(answer);
  backends.push(created);
  return created;
}
after(async () => {
  for (const b of backends) await b.close();
});

function request(port: number, overrides: Partial<PingRequest> = {}): PingRequest {
  return { host: '127.0.0.1', port, user: 'postgres', database: 'appdb', timeoutMs: 2000, ...overrides };
}

/** Startup parameters a fake backend received. */
function startupParameters(received: Buffer): Record<string, string> {
  const length = received.readInt32BE(0);
  const parts = received.toString('utf8', 8, length - 1).split('\0');
  const parameters: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) parameters[parts[i] ?? ''] = parts[i + 1] ?? '';
  return parameters;
}

describe('ping against a fake backend', () => {
  it('is accepting when asked for a password, sends a protocol-3.0 startup and leaves with a bare EOF', async () => {
    const b = await backend((socket) => socket.write(authRequest(10, Buffer.from('SCRAM-SHA-256\0\0', 'latin1'))));
    const outcome = await ping(request(b.port));
    assert.equal(outcome.state, 'accepting');
    assert.match(outcome.details, /asked for authentication/);
    assert.equal(outcome.failure, undefined);
    const session = b.sessions[0];
    assert.ok(session);
    await session.closed;
    assert.equal(session.received.readInt32BE(4), 196_608);
    assert.deepEqual(startupParameters(session.received), { user: 'postgres', database: 'appdb', application_name: 'handyrep' });
    // Anything sent during authentication other than a password gets logged by the server.
    assert.equal(session.received.length, session.received.readInt32BE(0), 'nothing after the startup message');
  });

  it('is accepting on AuthenticationOk and says goodbye with Terminate', async () => {
    const b = await backend((socket) => {
      socket.write(Buffer.concat([authRequest(0), message('S', Buffer.from('server_version\x0015\0')), message('Z', Buffer.from('I'))]));
    });
    const outcome = await ping(request(b.port));
    assert.equal(outcome.state, 'accepting');
    const session = b.sessions[0];
    assert.ok(session);
    await session.closed;
    const afterStartup = session.received.subarray(session.received.readInt32BE(0));
    assert.deepEqual([...afterStartup], [0x58, 0, 0, 0, 4]);
  });

  it('is rejecting on SQLSTATE 57P03', async () => {
    const b = await backend((socket) => socket.end(errorResponse('57P03', 'the database system is starting up')));
    const outcome = await ping(request(b.port));
    assert.equal(outcome.state, 'rejecting');
    assert.match(outcome.details, /starting up.*57P03/);
    assert.equal(outcome.failure, undefined, 'the server answered');
  });

  it('is accepting on any other server error (bad password, unknown database, too many clients)', async () => {
    for (const [code, text] of [['28P01', 'password authentication failed'], ['3D000', 'database "x" does not exist'], ['53300', 'sorry, too many clients already']] as const) {
      const b = await backend((socket) => socket.end(errorResponse(code, text)));
      const outcome = await ping(request(b.port));
      assert.equal(outcome.state, 'accepting', code);
      assert.match(outcome.details, new RegExp(code));
    }
  });

  it('is no_response on an error without SQLSTATE (fork failure)', async () => {
    const b = await backend((socket) => socket.end(Buffer.from('Ecould not fork new process for connection: Resource temporarily unavailable\n\0')));
    const outcome = await ping(request(b.port));
    assert.equal(outcome.state, 'no_response');
    assert.match(outcome.details, /could not fork/);
    assert.equal(outcome.failure, 'error');
  });

  it('reads an answer that arrives one byte at a time', async () => {
    const b = await backend((socket) => {
      const bytes = errorResponse('57P03', 'the database system is shutting down');
      let i = 0;
      const next = (): void => {
        if (i < bytes.length) socket.write(bytes.subarray(i, ++i), next);
      };
      next();
    });
    assert.equal((await ping(request(b.port))).state, 'rejecting');
  });

  it('is no_response within the timeout when the server never answers', async () => {
    const b = await backend(() => {});
    const started = performance.now();
    const outcome = await ping(request(b.port, { timeoutMs: 300 }));
    const elapsed = performance.now() - started;
    assert.equal(outcome.state, 'no_response');
    assert.equal(outcome.failure, 'timeout');
    assert.match(outcome.details, /connected, but no answer .* 300 ms/);
    assert.ok(elapsed >= 290 && elapsed < 1500, `took ${elapsed} ms`);
  });

  it('is no_response when the server closes without answering', async () => {
    const b = await backend((socket) => socket.destroy());
    const outcome = await ping(request(b.port));
    assert.equal(outcome.state, 'no_response');
    assert.match(outcome.details, /closed/);
    assert.equal(outcome.failure, 'error', 'something listened: an orderly close is no refusal');
  });

  it('is no_response/refused when the server resets the connection before answering', async () => {
    const b = await backend((socket) => socket.resetAndDestroy());
    const outcome = await ping(request(b.port));
    assert.equal(outcome.state, 'no_response');
    assert.match(outcome.details, /ECONNRESET/);
    assert.equal(outcome.failure, 'refused');
  });

  it('is no_response/error when the reset comes after part of an answer', async () => {
    const b = await backend((socket) => {
      socket.write(authRequest(10).subarray(0, 3), () => setTimeout(() => socket.resetAndDestroy(), 50));
    });
    const outcome = await ping(request(b.port));
    assert.equal(outcome.state, 'no_response');
    assert.match(outcome.details, /ECONNRESET/);
    assert.equal(outcome.failure, 'error');
  });

  it('is no_response when something else answers (an HTTP server)', async () => {
    const b = await backend((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const outcome = await ping(request(b.port));
    assert.equal(outcome.state, 'no_response');
    assert.match(outcome.details, /not a PostgreSQL answer/);
    assert.equal(outcome.failure, 'error');
  });

  it('is no_response, fast, when the port refuses', async () => {
    const b = await fakeBackend(() => {});
    const port = b.port;
    await b.close();
    const started = performance.now();
    const outcome = await ping(request(port));
    assert.equal(outcome.state, 'no_response');
    assert.equal(outcome.failure, 'refused');
    assert.match(outcome.details, /refused/);
    assert.ok(performance.now() - started < 1000);
  });

  it('is bad_config when the role name cannot go into a startup message', async () => {
    const outcome = await ping(request(1, { user: 'a\0b' }));
    assert.equal(outcome.state, 'bad_config');
    assert.equal(outcome.failure, 'error');
  });
});

describe('socketErrorOutcome', () => {
  const error = (code: string): Error & { code: string } => Object.assign(new Error(`connect ${code} x`), { code });

  it('calls a name that does not exist bad_config and everything else no_response', () => {
    assert.equal(socketErrorOutcome(error('ENOTFOUND'), 'nowhere.invalid').state, 'bad_config');
    for (const code of ['EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPROTO']) {
      assert.equal(socketErrorOutcome(error(code), 'db1').state, 'no_response', code);
    }
  });

  it('tells a refused port from silence, no route and other errors', () => {
    const cases: [string, boolean, string][] = [
      ['ECONNREFUSED', false, 'refused'],
      ['ECONNRESET', false, 'refused'],
      ['ECONNRESET', true, 'error'],
      ['ETIMEDOUT', false, 'timeout'],
      ['EHOSTUNREACH', false, 'unreachable'],
      ['ENETUNREACH', false, 'unreachable'],
      ['EAI_AGAIN', false, 'unreachable'],
      ['ENOTFOUND', false, 'unreachable'],
      ['EPROTO', false, 'error'],
    ];
    for (const [code, answered, failure] of cases) {
      assert.equal(socketErrorOutcome(error(code), 'db1', answered).failure, failure, `${code}${answered ? ' after an answer' : ''}`);
    }
    assert.equal(socketErrorOutcome(new Error('no code at all'), 'db1').failure, 'error');
  });
});

describe('replyOutcome', () => {
  it('follows PQping', () => {
    assert.equal(replyOutcome({ kind: 'authentication', code: 5 }).state, 'accepting');
    assert.equal(replyOutcome({ kind: 'error', sqlState: '57P03', message: 'x' }).state, 'rejecting');
    assert.equal(replyOutcome({ kind: 'error', sqlState: '28000', message: 'x' }).state, 'accepting');
    assert.equal(replyOutcome({ kind: 'error', sqlState: undefined, message: 'x' }).state, 'no_response');
    assert.equal(replyOutcome({ kind: 'unexpected', description: 'x' }).state, 'no_response');
  });

  it('gives a failure only where no usable answer came', () => {
    assert.equal(replyOutcome({ kind: 'authentication', code: 5 }).failure, undefined);
    assert.equal(replyOutcome({ kind: 'error', sqlState: '57P03', message: 'x' }).failure, undefined);
    assert.equal(replyOutcome({ kind: 'error', sqlState: undefined, message: 'x' }).failure, 'error');
    assert.equal(replyOutcome({ kind: 'unexpected', description: 'x' }).failure, 'error');
  });
});
