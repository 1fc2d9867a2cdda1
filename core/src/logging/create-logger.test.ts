import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BadArgumentError, ErrorCodes } from '@handyrep/plugin-sdk';
import { createLogger, type CoreLogger } from './create-logger.js';
import { LogRing } from './log-ring.js';
import { readLog } from './log-reader.js';

const LINE_SHAPE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?=[A-Z]+ )/;

// The part of a read_log line after the timestamp, which varies run to run.
function body(line: string): string {
  assert.match(line, LINE_SHAPE);
  return line.replace(LINE_SHAPE, '');
}

describe('createLogger + readLog', () => {
  let dir: string;
  let counter = 0;
  const open: CoreLogger[] = [];
  const newFile = (): string => join(dir, `run-${++counter}`, 'handyrep.log');
  const logger = (logFile: string, verbose = false, secrets: () => Iterable<string> = () => []): CoreLogger => {
    const created = createLogger({ logFile, verbose, secrets });
    open.push(created);
    return created;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hr-logger-'));
  });
  after(async () => {
    for (const created of open) created.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes JSON lines to the file (creating its directory) and reads them back newest first', async () => {
    const file = newFile();
    const log = logger(file);
    log.info('first');
    log.child({ plugin: 'poll_isready', server: 'pg2' }).warn('server pg2 not responding');
    log.child({ component: 'failover' }).error('no candidate', { tried: ['pg2', 'pg3'] });

    const raw = (await readFile(file, 'utf8')).trimEnd().split('\n');
    assert.equal(raw.length, 3);
    assert.deepEqual(raw.map((line) => (JSON.parse(line) as { level: string }).level), ['info', 'warn', 'error']);

    const lines = await readLog({ logFile: file, numlines: 20 });
    assert.deepEqual(lines.map(body), [
      'ERROR [failover] no candidate {"tried":["pg2","pg3"]}',
      'WARN [poll_isready] server pg2 not responding {"server":"pg2"}',
      'INFO first',
    ]);
  });

  it('returns entries written before a restart, after the new ones, and never truncates the file', async () => {
    const file = newFile();
    const first = logger(file);
    first.info('before restart');
    first.close();
    first.info('dropped after close');

    const second = logger(file);
    second.info('after restart');
    assert.deepEqual((await readLog({ logFile: file, numlines: 10 })).map(body), ['INFO after restart', 'INFO before restart']);
  });

  it('returns everything there is when numlines exceeds it, and nothing for a file not yet written', async () => {
    const file = newFile();
    const log = logger(file);
    for (const n of [1, 2, 3]) log.info(`entry ${n}`);
    assert.deepEqual((await readLog({ logFile: file, numlines: 100 })).map(body), ['INFO entry 3', 'INFO entry 2', 'INFO entry 1']);
    assert.deepEqual((await readLog({ logFile: file, numlines: 2 })).map(body), ['INFO entry 3', 'INFO entry 2']);
    assert.deepEqual(await readLog({ logFile: join(dir, 'never-written.log'), numlines: 5 }), []);
  });

  it('rejects a numlines that is not an integer from 1 to 10000', async () => {
    const file = newFile();
    logger(file).info('x');
    for (const numlines of [0, -1, 1.5, 10_001, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      await assert.rejects(
        readLog({ logFile: file, numlines }),
        (err: unknown) => err instanceof BadArgumentError && err.code === ErrorCodes.BAD_ARGUMENT,
        String(numlines),
      );
    }
    assert.equal((await readLog({ logFile: file, numlines: 10_000 })).length, 1);
  });

  it('reads a log of several 64 KiB chunks from the end, in order, with multi-byte text intact', async () => {
    const file = newFile();
    const log = logger(file);
    const total = 3000;
    for (let i = 0; i < total; i++) log.info(`entry ${i} Ümläut €`, { padding: 'p'.repeat(40) });
    assert.ok((await stat(file)).size > 4 * 64 * 1024, 'the file spans several chunks');

    const lines = await readLog({ logFile: file, numlines: 2500 });
    assert.equal(lines.length, 2500);
    lines.forEach((line, index) => {
      assert.equal(body(line), `INFO entry ${total - 1 - index} Ümläut € {"padding":"${'p'.repeat(40)}"}`);
    });
  });

  it('skips garbage and a torn last line, and a new process does not glue its first line to the torn one', async () => {
    const file = newFile();
    const log = logger(file);
    log.info('intact');
    log.close();
    await appendFile(file, 'not json at all\n{"level":"info","time":"2026-11-26T1');

    assert.deepEqual((await readLog({ logFile: file, numlines: 10 })).map(body), ['INFO intact']);
    logger(file).info('after crash');
    assert.deepEqual((await readLog({ logFile: file, numlines: 10 })).map(body), ['INFO after crash', 'INFO intact']);
  });

  it('setVerbose switches debug lines on and off, for children created before the switch too', async () => {
    const file = newFile();
    const log = logger(file, false);
    const child = log.child({ plugin: 'poll_isready' });
    const grandchild = child.child({ server: 'pg1' });

    log.debug('root quiet');
    child.debug('child quiet');
    assert.equal(log.isVerbose(), false);

    log.setVerbose(true);
    assert.equal(log.isVerbose(), true);
    log.debug('root loud');
    child.debug('child loud');
    grandchild.debug('grandchild loud');
    log.child({ component: 'api' }).debug('new child loud');

    log.setVerbose(false);
    child.debug('child quiet again');
    grandchild.info('grandchild info still shown');

    assert.deepEqual((await readLog({ logFile: file, numlines: 20 })).map(body), [
      'INFO [poll_isready] grandchild info still shown {"server":"pg1"}',
      'DEBUG [api] new child loud',
      'DEBUG [poll_isready] grandchild loud {"server":"pg1"}',
      'DEBUG [poll_isready] child loud',
      'DEBUG root loud',
    ]);
  });

  it('logs to the destination instead of stdout and feeds the ring that readLog reads', async () => {
    const destination = new PassThrough();
    const written: string[] = [];
    destination.on('data', (chunk: Buffer) => written.push(chunk.toString('utf8')));
    const ring = new LogRing(3);
    const log = createLogger({ verbose: true, secrets: () => ['hunter2'], destination, ring });
    open.push(log);
    assert.equal(log.ring, ring);
    assert.equal(log.logFile, undefined);

    for (const n of [1, 2, 3, 4]) log.info(`entry ${n}`);
    log.child({ plugin: 'alert_email' }).debug('mail with hunter2');

    assert.equal(written.join('').trimEnd().split('\n').length, 5);
    assert.doesNotMatch(written.join(''), /hunter2/);
    assert.deepEqual((await readLog({ memory: log.ring, numlines: 10 })).map(body), [
      'DEBUG [alert_email] mail with [REDACTED]',
      'INFO entry 4',
      'INFO entry 3',
    ]);
    assert.deepEqual((await readLog({ memory: log.ring, numlines: 1 })).map(body), ['DEBUG [alert_email] mail with [REDACTED]']);
    assert.deepEqual(await readLog({ numlines: 5 }), []);
  });

  it('also feeds the ring when writing to a file', async () => {
    const file = newFile();
    const log = logger(file);
    log.warn('in both');
    assert.deepEqual((await readLog({ memory: log.ring, numlines: 5 })).map(body), ['WARN in both']);
  });

  it('refuses a relative log file path', () => {
    assert.throws(() => createLogger({ logFile: 'relative.log', verbose: false, secrets: () => [] }), BadArgumentError);
  });
});

describe('createLogger never writes a password', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hr-logger-secrets-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('masks secret values, secret keys, conninfo passwords, error messages and array items in the raw file', async () => {
    const file = join(dir, 'secrets.log');
    const secrets = ['hunter2', 's3cret'];
    const log = createLogger({ logFile: file, verbose: true, secrets: () => secrets });
    const fields = {
      password: 'plain-field-password',
      conn: { conninfo: 'host=a password=hunter2 port=5432' },
      err: new Error('auth failed: s3cret rejected'),
      items: ['keep-me', 'hunter2', { token: 'deep-token-value' }],
      url: 'postgresql://rep:url-only-pw@db1/postgres',
      replication: { dbPassword: 'camel-password' },
    };
    const snapshot = { ...fields, conn: { ...fields.conn }, items: [...fields.items] };

    log.info('connecting with s3cret to db1', fields);
    log.child({ plugin: 'clone_basebackup', server: 'pg2' }).error('clone failed', { cause: new Error('password=hunter2 wrong') });
    log.debug('later line with hunter2', { env: 'PGPASSWORD=env-only-pw psql' });
    log.close();

    const raw = await readFile(file, 'utf8');
    for (const leaked of ['hunter2', 's3cret', 'plain-field-password', 'deep-token-value', 'url-only-pw', 'camel-password', 'env-only-pw']) {
      assert.equal(raw.includes(leaked), false, `${leaked} leaked into the log`);
    }
    for (const kept of ['connecting with [REDACTED] to db1', 'host=a password=[REDACTED] port=5432', 'auth failed: [REDACTED] rejected',
      'keep-me', 'postgresql://rep:[REDACTED]@db1/postgres', 'clone_basebackup', 'clone failed', 'later line with [REDACTED]']) {
      assert.ok(raw.includes(kept), `${kept} is missing from the log`);
    }
    assert.equal(raw.trimEnd().split('\n').length, 3);
    raw.trimEnd().split('\n').forEach((line) => assert.doesNotThrow(() => JSON.parse(line)));

    assert.deepEqual(fields.items, snapshot.items, 'caller array untouched');
    assert.deepEqual(fields.conn, snapshot.conn, 'caller object untouched');
    assert.equal(fields.password, 'plain-field-password');
    assert.equal(fields.err.message, 'auth failed: s3cret rejected');
  });

  it('reads the secrets at log time, so a password added by a reload is masked from then on', async () => {
    const file = join(dir, 'reload.log');
    const secrets: string[] = [];
    const log = createLogger({ logFile: file, verbose: false, secrets: () => secrets });
    const child = log.child({ plugin: 'poll_isready' });
    child.info('value newpass123 before reload');
    secrets.push('newpass123');
    child.info('value newpass123 after reload');
    log.close();

    const lines = (await readLog({ logFile: file, numlines: 5 })).map(body);
    assert.deepEqual(lines, ['INFO [poll_isready] value [REDACTED] after reload', 'INFO [poll_isready] value newpass123 before reload']);
  });

  it('keeps a field named like a pino header key instead of letting it corrupt the entry', async () => {
    const file = join(dir, 'reserved.log');
    const log = createLogger({ logFile: file, verbose: false, secrets: () => [] });
    log.info('wal settings', { level: 'replica', time: 5 });
    log.close();
    assert.deepEqual((await readLog({ logFile: file, numlines: 1 })).map(body), ['INFO wal settings {"_level":"replica","_time":5}']);
  });

  it('keeps logging when secrets() throws', async () => {
    const file = join(dir, 'throwing.log');
    const log = createLogger({
      logFile: file,
      verbose: false,
      secrets: () => {
        throw new Error('config reloading');
      },
    });
    log.info('still logged', { conninfo: 'password=abc' });
    log.close();
    assert.deepEqual((await readLog({ logFile: file, numlines: 1 })).map(body), ['INFO still logged {"conninfo":"password=[REDACTED]"}']);
  });
});
