import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ARCHIVE_SCRIPT_PATH_SCHEMA, ARCHIVE_SCRIPT_USAGE_CHECK, ARCHIVER_QUERY_TIMEOUT_SCHEMA } from './archive-settings.js';

describe('archive plugin settings and script parts', () => {
  it('script_path: empty or an absolute path not ending in /; query_timeout_seconds defaults to 5', () => {
    const pattern = new RegExp(ARCHIVE_SCRIPT_PATH_SCHEMA.pattern ?? '');
    assert.ok(pattern.test('') && pattern.test('/opt/hr/archive.sh'));
    assert.ok(!pattern.test('archive.sh') && !pattern.test('/opt/hr/') && !pattern.test('/a\nb'));
    assert.match(ARCHIVE_SCRIPT_PATH_SCHEMA.description ?? '', /handyrep_archive\.sh in the parent directory/);
    assert.equal(ARCHIVER_QUERY_TIMEOUT_SCHEMA.default, 5);
  });

  it('the usage check exits 2 unless given exactly two arguments (run by a real /bin/sh)', () => {
    const run = (...args: string[]) => spawnSync('/bin/sh', ['-c', `${ARCHIVE_SCRIPT_USAGE_CHECK}\necho ran`, 'archive.sh', ...args], { encoding: 'utf8' });
    assert.equal(run('pg_wal/x', 'x').stdout, 'ran\n');
    const wrong = run('only-one');
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /^usage: archive\.sh <path of the WAL file> <its file name> {2}\(archive_command = archive\.sh %p %f\)\n$/);
  });
});
