import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLinesBackward } from './reverse-lines.js';

async function collect(file: string, chunkBytes?: number, maxLineBytes?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLinesBackward(file, chunkBytes, maxLineBytes)) out.push(line);
  return out;
}

describe('readLinesBackward', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hr-reverse-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('yields every line newest first whatever the chunk size, keeping multi-byte characters whole', async () => {
    const lines = ['first', 'zweite Zeile mit Ümläuten', '', '第三行 — €uro', 'last line without newline'];
    const file = join(dir, 'mixed.log');
    await writeFile(file, lines.join('\n'));
    const expected = lines.filter((line) => line.length > 0).reverse();
    for (const chunk of [1, 2, 3, 5, 7, 16, 64, 65536]) {
      assert.deepEqual(await collect(file, chunk), expected, `chunk size ${chunk}`);
    }
  });

  it('does not yield an empty line for the trailing newline', async () => {
    const file = join(dir, 'trailing.log');
    await writeFile(file, 'a\nb\n\n');
    assert.deepEqual(await collect(file, 2), ['b', 'a']);
  });

  it('yields nothing for an empty file', async () => {
    const file = join(dir, 'empty.log');
    await writeFile(file, '');
    assert.deepEqual(await collect(file), []);
  });

  it('skips a line longer than the limit and carries on with the lines before it', async () => {
    const file = join(dir, 'long.log');
    await writeFile(file, `before\n${'x'.repeat(100)}\nafter\n`);
    assert.deepEqual(await collect(file, 8, 50), ['after', 'before']);
  });

  it('stops reading when the consumer stops', async () => {
    const file = join(dir, 'partial.log');
    await writeFile(file, Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n'));
    const seen: string[] = [];
    for await (const line of readLinesBackward(file, 16)) {
      seen.push(line);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, ['line 99', 'line 98']);
  });

  it('rejects when the file does not exist', async () => {
    await assert.rejects(collect(join(dir, 'missing.log')), { code: 'ENOENT' });
  });
});
