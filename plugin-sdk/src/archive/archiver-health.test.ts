import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeArchiving } from './archiver-health.js';
import type { ArchiveHealthInput as HealthInput, ArchiverRow } from './archiver-health.js';

const SCRIPT = '/var/lib/postgresql/15/handyrep_archive.sh';
const T0 = Date.UTC(2026, 0, 1, 12) / 1000;

function row(over: Partial<ArchiverRow> = {}): ArchiverRow {
  return {
    archived_count: '12',
    failed_count: '0',
    last_archived_wal: '00000001000000000000000C',
    last_archived_epoch: T0,
    last_failed_wal: null,
    last_failed_epoch: null,
    archive_mode: 'on',
    archive_command: `${SCRIPT} %p %f`,
    in_recovery: false,
    ready_count: 0,
    ...over,
  };
}

function judge(r: ArchiverRow, over: Partial<HealthInput> = {}) {
  return judgeArchiving({ server: 'db1', row: r, touchFilePresent: false, touchFile: '/t/NOARCH', scriptPath: SCRIPT, previousFailedCount: undefined, ...over });
}

describe('archiving health from pg_stat_archiver', () => {
  it('active: SUCCESS with counts, the last archived segment and its time', () => {
    const verdict = judge(row());
    assert.equal(verdict.result, 'SUCCESS', verdict.details);
    assert.equal(verdict.archiving, 'active');
    assert.equal(verdict.archived_count, 12);
    assert.equal(verdict.last_archived_time, '2026-01-01T12:00:00.000Z');
    assert.deepEqual(verdict.warnings, []);
    assert.match(verdict.details, /active on db1: last archived 00000001000000000000000C at 2026-01-01T12:00:00.000Z \(12 archived, 0 failed attempts, 0 waiting\)/);
  });

  it('failing: the newest attempt failed (or nothing ever succeeded) → FAIL naming the segment', () => {
    const failing = judge(row({ failed_count: '3', last_failed_wal: '00000001000000000000000D', last_failed_epoch: T0 + 5, ready_count: 2 }));
    assert.equal(failing.result, 'FAIL');
    assert.equal(failing.archiving, 'failing');
    assert.match(failing.details, /failing on db1: last failure 00000001000000000000000D at .*, last success 00000001000000000000000C.*2 waiting/);
    const never = judge(row({ archived_count: '0', last_archived_wal: null, last_archived_epoch: null, failed_count: '1', last_failed_wal: 'X', last_failed_epoch: T0 }));
    assert.equal(never.result, 'FAIL');
    assert.match(never.details, /last success none/);
  });

  it('recovered: an older failure than the last success is healthy, but new failures since the previous poll are warned about', () => {
    const recovered = row({ failed_count: '4', last_failed_wal: 'X', last_failed_epoch: T0 - 60 });
    assert.equal(judge(recovered, { previousFailedCount: 4 }).warnings.length, 0);
    const warned = judge(recovered, { previousFailedCount: 1 });
    assert.equal(warned.result, 'SUCCESS');
    assert.match(warned.warnings[0] ?? '', /^3 failed archive attempt\(s\) since the previous poll/);
    assert.match(warned.details, /warnings: 3 failed/);
  });

  it('stopped by the touch file: SUCCESS that says so, even while failures are recorded', () => {
    const stopped = judge(row({ failed_count: '1', last_failed_wal: 'X', last_failed_epoch: T0 + 1 }), { touchFilePresent: true });
    assert.equal(stopped.result, 'SUCCESS');
    assert.equal(stopped.archiving, 'stopped');
    assert.match(stopped.details, /stopped on db1 by the touch file \/t\/NOARCH/);
  });

  it('archive_mode off, a server in recovery → FAIL; an archive_command without the script → warning', () => {
    assert.equal(judge(row({ archive_mode: 'off' })).archiving, 'off');
    assert.equal(judge(row({ archive_mode: 'off' })).result, 'FAIL');
    const replica = judge(row({ in_recovery: true }));
    assert.equal(replica.result, 'FAIL');
    assert.equal(replica.archiving, 'not_master');
    const other = judge(row({ archive_command: 'cp %p /elsewhere/%f' }));
    assert.equal(other.result, 'SUCCESS');
    assert.match(other.warnings[0] ?? '', /does not run .*handyrep_archive.sh/);
  });

  it('an unchecked touch file becomes a warning, not a verdict', () => {
    const unknown = judge(row(), { touchFilePresent: null, touchFileError: 'HR_TIMEOUT' });
    assert.equal(unknown.result, 'SUCCESS');
    assert.equal(unknown.touch_file_present, null);
    assert.match(unknown.warnings[0] ?? '', /could not check the touch file/);
  });
});
