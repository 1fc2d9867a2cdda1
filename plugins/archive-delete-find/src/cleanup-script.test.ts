import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanupScript, minutesFor, parseCleanupOutput } from './cleanup-script.js';

const scratch = mkdtempSync(join(tmpdir(), 'archive-delete-find-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const THREE_DAYS_AGO = new Date(Date.now() - 72 * 3600 * 1000);

function old(path: string): void {
  utimesSync(path, THREE_DAYS_AGO, THREE_DAYS_AGO);
}

function run(directory: string, minutes: number) {
  return spawnSync('/bin/sh', ['-c', cleanupScript(directory, minutes)], { encoding: 'utf8', cwd: scratch, timeout: 20_000 });
}

describe('cleanup script run by a real shell and GNU find', () => {
  it('deletes exactly the old WAL segments, .partial and .backup files; every decoy survives', () => {
    const marker = join(scratch, 'pwned');
    const dir = join(scratch, `archive 'it' $(touch ${marker}) \`touch ${marker}\`; #`);
    mkdirSync(dir, { recursive: true });
    const oldWal = ['000000010000000000000001', '000000010000000000000002', '00000001000000000000000A.partial', '000000010000000000000002.00000028.backup'];
    const decoys = [
      'README.txt',
      'notes',
      '000000010000000000000001.bak',
      '00000002.history',
      '0000000100000000000000ab',
      '00000001000000000000000',
      '0000000100000000000000010',
      '.000000010000000000000003.handyrep-tmp.123',
      '000000010000000000000003.gz',
      'x000000010000000000000003',
    ];
    for (const name of [...oldWal, ...decoys]) {
      writeFileSync(join(dir, name), name);
      old(join(dir, name));
    }
    writeFileSync(join(dir, '000000010000000000000009'), 'new segment');
    mkdirSync(join(dir, '000000010000000000000004'));
    old(join(dir, '000000010000000000000004'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', '000000010000000000000005'), 'nested');
    old(join(dir, 'sub', '000000010000000000000005'));
    writeFileSync(join(scratch, 'outside'), 'target of a link');
    old(join(scratch, 'outside'));
    symlinkSync(join(scratch, 'outside'), join(dir, '000000010000000000000006'));

    const result = run(dir, minutesFor(48));
    assert.equal(result.status, 0, result.stderr);
    const output = parseCleanupOutput(result.stdout);
    assert.deepEqual(output.deleted, [...oldWal].sort());
    assert.equal(output.remaining, 1, 'only the new segment is left among WAL names');
    const left = readdirSync(dir).sort();
    assert.deepEqual(left, [...decoys, '000000010000000000000009', '000000010000000000000004', 'sub', '000000010000000000000006'].sort());
    assert.ok(existsSync(join(dir, 'sub', '000000010000000000000005')), 'nothing below the directory is touched');
    assert.ok(existsSync(join(scratch, 'outside')), 'a link target is not touched');
    assert.equal(existsSync(marker), false);
  });

  it('respects the age: files younger than the limit stay', () => {
    const dir = join(scratch, 'age');
    mkdirSync(dir);
    writeFileSync(join(dir, '000000010000000000000001'), '');
    const twoHours = new Date(Date.now() - 2 * 3600 * 1000);
    utimesSync(join(dir, '000000010000000000000001'), twoHours, twoHours);
    assert.deepEqual(parseCleanupOutput(run(dir, minutesFor(3)).stdout).deleted, []);
    assert.deepEqual(parseCleanupOutput(run(dir, minutesFor(1.5)).stdout).deleted, ['000000010000000000000001']);
  });

  it('follows a symbolic link to the archive directory itself; a missing directory exits 3', () => {
    const real = join(scratch, 'real-archive');
    mkdirSync(real);
    writeFileSync(join(real, '000000010000000000000001'), '');
    old(join(real, '000000010000000000000001'));
    symlinkSync(real, join(scratch, 'linked-archive'));
    assert.deepEqual(parseCleanupOutput(run(join(scratch, 'linked-archive'), 60).stdout).deleted, ['000000010000000000000001']);
    const missing = run(join(scratch, 'no such dir'), 60);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /does not exist/);
  });

  it('minutes round up, so nothing goes before its time', () => {
    assert.equal(minutesFor(48), 2880);
    assert.equal(minutesFor(0.001), 1);
    assert.equal(minutesFor(1.25), 75);
  });
});
