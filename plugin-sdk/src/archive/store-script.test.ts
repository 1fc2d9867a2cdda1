import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ARCHIVE_CHECK_SCRIPT, ARCHIVE_STORE_SCRIPT } from './store-script.js';

const scratch = mkdtempSync(join(tmpdir(), 'sdk-archive-store-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the store code as the archive scripts do: `sh -c "$STORE" handyrep-archive <dir> <fsync> <name> < segment`. */
function store(dir: string, name: string, content: string, fsync = '1') {
  return spawnSync('/bin/sh', ['-c', ARCHIVE_STORE_SCRIPT, 'handyrep-archive', dir, fsync, name], { input: content, encoding: 'utf8' });
}

describe('the archive store code (run by a real /bin/sh)', () => {
  const dir = join(scratch, 'archive');

  it('the check creates the directory 0700 and finds the tools', () => {
    const run = spawnSync('/bin/sh', ['-c', ARCHIVE_CHECK_SCRIPT, 'handyrep-check', dir], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    writeFileSync(join(scratch, 'a-file'), '');
    assert.equal(spawnSync('/bin/sh', ['-c', ARCHIVE_CHECK_SCRIPT, 'handyrep-check', join(scratch, 'a-file')]).status, 1);
  });

  it('stores a segment (no temp file left), accepts the identical one again, never overwrites a different one', () => {
    assert.equal(store(dir, '000000010000000000000001', 'wal one').status, 0);
    assert.equal(readFileSync(join(dir, '000000010000000000000001'), 'utf8'), 'wal one');
    assert.deepEqual(readdirSync(dir), ['000000010000000000000001']);
    assert.equal(store(dir, '000000010000000000000001', 'wal one', '0').status, 0);
    const differs = store(dir, '000000010000000000000001', 'other');
    assert.equal(differs.status, 3);
    assert.match(differs.stderr, /already exists and differs/);
    assert.equal(readFileSync(join(dir, '000000010000000000000001'), 'utf8'), 'wal one');
  });

  it('refuses a file name that is not a WAL file name', () => {
    for (const name of ['', '.hidden', '../x', 'a b', '$(touch pwned)']) {
      const run = store(dir, name, 'x');
      assert.equal(run.status, 2, name);
      assert.match(run.stderr, /refusing file name/);
    }
    assert.equal(existsSync(join(scratch, 'x')), false);
  });
});
