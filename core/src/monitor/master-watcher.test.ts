import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MemoryLogger, staticServerView, testServer } from '@handyrep/plugin-sdk/testing';
import { MasterWatcher } from './master-watcher.js';

/** A TCP server that accepts and never answers: a PostgreSQL connection to it stays "connecting". */
async function silentServer(): Promise<{ server: Server; port: number; sockets: Socket[]; accepted: () => Promise<void> }> {
  const sockets: Socket[] = [];
  let waiters: (() => void)[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    for (const waiter of waiters) waiter();
    waiters = [];
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const accepted = () => new Promise<void>((resolve) => waiters.push(resolve));
  return { server, port: address.port, sockets, accepted };
}

/** Resolves with the promise's outcome, or 'still pending' after ms. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still pending'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<'still pending'>((resolve) => (timer = setTimeout(() => resolve('still pending'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('MasterWatcher', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  const losses: string[] = [];
  const watcher = (connectTimeoutMs = 60_000) =>
    new MasterWatcher(
      staticServerView([
        testServer({ name: 'pg1', hostname: '127.0.0.1', port: silent.port, role: 'master' }),
        testServer({ name: 'pg2', hostname: '127.0.0.1', port: silent.port }),
      ]),
      { get: () => 'secret', require: () => 'secret' },
      { user: 'postgres', database: 'handyrep', connectTimeoutMs },
      new MemoryLogger(),
      (master) => losses.push(master),
    );

  before(async () => {
    silent = await silentServer();
  });
  after(() => {
    for (const socket of silent.sockets) socket.destroy();
    silent.server.close();
  });

  // The monitor stops (Monitor.stop → close) while its keepWatching() awaits
  // watch() on a just-promoted master. pg never settles connect() when end()
  // is called during the connection (its 'end' handler skips the callback
  // once the client is ending, and clears the connect time-out), so an
  // awaited watch() that was not settled by close() hung Monitor.stop for good.
  it('settles a watch in progress when closed (false, no loss reported)', async () => {
    const w = watcher();
    const accepted = silent.accepted();
    const watching = w.watch('pg1');
    await accepted;
    w.close();
    assert.equal(await within(watching, 2_000), false);
    assert.equal(w.watched(), undefined);
    assert.deepEqual(losses, []);
  });

  it('settles a watch in progress when another master is watched instead', async () => {
    const w = watcher();
    const accepted = silent.accepted();
    const first = w.watch('pg1');
    await accepted;
    const second = w.watch('pg2');
    assert.equal(await within(first, 2_000), false);
    w.close();
    assert.equal(await within(second, 2_000), false);
    assert.deepEqual(losses, []);
  });

  it('still gives up on a silent server after connect_timeout', async () => {
    const w = watcher(300);
    const started = Date.now();
    assert.equal(await within(w.watch('pg1'), 5_000), false);
    assert.ok(Date.now() - started < 4_000, `gave up after ${Date.now() - started} ms`);
    w.close();
  });

  it('watches nothing once closed', async () => {
    const w = watcher();
    w.close();
    assert.equal(await w.watch('pg1'), false);
  });
});
