import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import {
  parseStateText,
  readStateFile,
  removeStaleTempFiles,
  writeStateFileAtomic,
  writeStateFileAtomicSync,
} from './state-file.js';
import type { SavedState } from './state-file.js';
import { fixtureState } from './test-support/state-fixture.js';

const WRITER = fileURLToPath(new URL('./test-support/state-writer.js', import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'handyrep-state-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function isCoded(path: string, fragment: RegExp): (err: unknown) => boolean {
  return (err) =>
    err instanceof HandyRepError && err.code === ErrorCodes.STATE_FILE && err.message.includes(path) && fragment.test(err.message);
}

/** Starts a writer, kills it with SIGKILL 0–30 ms after it starts writing. */
async function killWriterAtRandom(path: string, mode: 'async' | 'sync'): Promise<void> {
  const child = spawn(process.execPath, [WRITER, path, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', () => reject(new Error(`writer exited before writing: ${stderr}`)));
  });
  await sleep(Math.random() * 30);
  child.kill('SIGKILL');
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', `writer ended on its own: ${stderr}`);
}

describe('writeStateFileAtomic under kill -9', () => {
  it('leaves exactly one complete state after each of 120 kills (4 writers × 30)', async (t) => {
    const lanes = (['async', 'sync', 'async', 'sync'] as const).map(async (mode, lane) => {
      const path = join(dir, `kill-${lane}.save`);
      await writeStateFileAtomic(path, fixtureState(0));
      let last = 0;
      for (let kill = 0; kill < 30; kill += 1) {
        await killWriterAtRandom(path, mode);
        const state = await readStateFile(path);
        assert.ok(state !== undefined, `${path} vanished after kill ${kill}`);
        assert.deepEqual(state, fixtureState(state.generation), `${path} is not a complete state after kill ${kill}`);
        assert.ok(state.generation >= last, `generation went back from ${last} to ${state.generation}`);
        last = state.generation;
      }
      return { path, last };
    });
    const results = await Promise.all(lanes);
    let stale = 0;
    for (const { path, last } of results) {
      // On a loaded machine a writer may complete less than one write per life (21 of 30 seen under load): what
      // matters is that the kills landed while states were being written, so a handful of completed writes is enough.
      assert.ok(last >= 5, `${path}: the writers barely wrote (generation ${last}); the test proves little`);
      // Temp files of killed writers may remain; they must not be mistaken for the state and can be cleaned up.
      assert.equal((await readStateFile(path))?.generation, last);
      stale += (await removeStaleTempFiles(path)).length;
    }
    t.diagnostic(`last generations ${results.map((r) => r.last).join(', ')}; ${stale} temp files of killed writers removed`);
    const left = (await readdir(dir)).filter((f) => f.startsWith('.kill-'));
    assert.deepEqual(left, []);
  });
});

describe('readStateFile', () => {
  it('missing file → undefined', async () => {
    assert.equal(await readStateFile(join(dir, 'nope.save')), undefined);
  });

  it('round-trips a state, file mode 0600', async () => {
    const path = join(dir, 'round.save');
    await writeStateFileAtomic(path, fixtureState(7));
    assert.deepEqual(await readStateFile(path), fixtureState(7));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    writeStateFileAtomicSync(path, fixtureState(8));
    assert.deepEqual(await readStateFile(path), fixtureState(8));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it('a leftover temp file is not mistaken for the state; stale ones are removed, live ones kept', async () => {
    const path = join(dir, 'left.save');
    await writeStateFileAtomic(path, fixtureState(3));
    const dead = join(dir, '.left.save.999999999.abcdef.tmp');
    const mine = join(dir, `.left.save.${process.pid}.abcdef.tmp`);
    const unrelated = join(dir, '.left.save.notes.tmp');
    await writeFile(dead, '{"format": 1, "generation": 99');
    await writeFile(mine, '{');
    await writeFile(unrelated, 'x');
    assert.deepEqual(await readStateFile(path), fixtureState(3));
    assert.deepEqual(await removeStaleTempFiles(path), [dead]);
    const names = (await readdir(dir)).filter((f) => f.includes('left.save'));
    assert.deepEqual(names.sort(), ['.left.save.notes.tmp', `.left.save.${process.pid}.abcdef.tmp`, 'left.save'].sort());
  });

  const corrupt: [what: string, text: string, fragment: RegExp][] = [
    ['not JSON', '{"format": 1, "gener', /not valid JSON/],
    ['empty file', '', /not valid JSON/],
    ['an array', '[]', /not a JSON object/],
    ['wrong format', JSON.stringify({ ...fixtureState(1), format: 2 }), /format: expected 1/],
    ['negative generation', JSON.stringify({ ...fixtureState(1), generation: -1 }), /generation/],
    ['bad cluster status', JSON.stringify({ ...fixtureState(1), cluster: { status: 'lagged' } }), /cluster/],
    ['missing extra', JSON.stringify({ ...fixtureState(1), extra: undefined }), /extra/],
    [
      'status keys in a definition',
      JSON.stringify({ ...fixtureState(1), servers: { db0: { definition: { hostname: 'h', status: 'healthy' }, status: fixtureState(1).cluster } } }),
      /servers\.db0\.definition: must not hold status/,
    ],
    [
      'inconsistent server status',
      JSON.stringify({ ...fixtureState(0), servers: { db0: { definition: {}, status: { status: 'down', status_no: 1, status_ts: '', status_message: '' } } } }),
      /servers\.db0\.status/,
    ],
    [
      'a server name that is not a plain word',
      JSON.stringify({ ...fixtureState(0), servers: { 'a;rm -rf /': { definition: {}, status: fixtureState(0).servers.db0?.status } } }),
      /servers\.a;rm -rf \/: server name/,
    ],
  ];
  for (const [what, text, fragment] of corrupt) {
    it(`corrupt file (${what}) → ${ErrorCodes.STATE_FILE} naming the file`, async () => {
      const path = join(dir, 'corrupt.save');
      await writeFile(path, text);
      await assert.rejects(readStateFile(path), isCoded(path, fragment));
    });
  }

  it('a path that cannot be read (a directory) → coded error', async () => {
    await assert.rejects(readStateFile(dir), isCoded(dir, /cannot read/));
  });
});

describe('writeStateFileAtomic failures', () => {
  it('refuses to write an invalid state and leaves the old file', async () => {
    const path = join(dir, 'invalid.save');
    await writeStateFileAtomic(path, fixtureState(2));
    const bad = { ...fixtureState(3), generation: 1.5 } as SavedState;
    await assert.rejects(writeStateFileAtomic(path, bad), isCoded(path, /refusing/));
    assert.throws(() => writeStateFileAtomicSync(path, bad), isCoded(path, /refusing/));
    assert.deepEqual(await readStateFile(path), fixtureState(2));
  });

  it('a directory that does not exist → coded error, no temp file left', async () => {
    const path = join(dir, 'missing-dir', 'x.save');
    await assert.rejects(writeStateFileAtomic(path, fixtureState(1)), isCoded(path, /cannot write/));
    assert.throws(() => writeStateFileAtomicSync(path, fixtureState(1)), isCoded(path, /cannot write/));
  });

  it('a rename that fails removes its temp file', async () => {
    const path = join(dir, 'target-is-dir');
    await rm(path, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(join(path, 'child'), { recursive: true }));
    await assert.rejects(writeStateFileAtomic(path, fixtureState(1)), isCoded(path, /cannot write/));
    assert.throws(() => writeStateFileAtomicSync(path, fixtureState(1)), isCoded(path, /cannot write/));
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('.target-is-dir')), []);
  });
});

describe('parseStateText', () => {
  it('names the given path in errors', () => {
    assert.throws(() => parseStateText('/x/servers.save', 'nope'), isCoded('/x/servers.save', /not valid JSON/));
  });
});
