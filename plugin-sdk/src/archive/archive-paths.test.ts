import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testServer } from '../testing/test-context.js';
import { archiveCommandFor, archivePaths } from './archive-paths.js';

function settings(archive: Record<string, unknown>) {
  return { get: (section: string, key: string) => (section === 'archive' ? archive[key] : undefined) };
}

const master = testServer({ name: 'db1', role: 'master', pgdata: '/var/lib/postgresql/15/main' });

describe('archive paths', () => {
  it('defaults: script and touch file beside pgdata (not in it), archive directory from [archive]', () => {
    assert.deepEqual(archivePaths(settings({ archive_directory: '/archive/wal', archive_touch_file: '' }), '', master), {
      scriptPath: '/var/lib/postgresql/15/handyrep_archive.sh',
      touchFile: '/var/lib/postgresql/15/handyrep_noarchiving',
      archiveDirectory: '/archive/wal',
    });
    const trailing = testServer({ name: 'db1', pgdata: '/srv/pg/data/' });
    assert.equal(archivePaths(settings({ archive_directory: '/a' }), '', trailing).scriptPath, '/srv/pg/handyrep_archive.sh');
  });

  it('a configured script path and touch file are used as written; the default touch file follows the script', () => {
    const configured = archivePaths(settings({ archive_directory: '/a', archive_touch_file: '/etc/NOARCHIVING' }), '/opt/hr/archive.sh', master);
    assert.equal(configured.scriptPath, '/opt/hr/archive.sh');
    assert.equal(configured.touchFile, '/etc/NOARCHIVING');
    assert.equal(archivePaths(settings({ archive_directory: '/a' }), '/opt/hr/archive.sh', master).touchFile, '/opt/hr/handyrep_noarchiving');
  });

  it('refuses a missing or relative archive directory, a relative touch file and a newline', () => {
    assert.throws(() => archivePaths(settings({ archive_directory: '' }), '', master), { code: 'HR_BAD_ARGUMENT', message: /archive_directory must be set/ });
    assert.throws(() => archivePaths(settings({}), '', master), /archive_directory/);
    assert.throws(() => archivePaths(settings({ archive_directory: 'wal' }), '', master), /absolute/);
    assert.throws(() => archivePaths(settings({ archive_directory: '/a\nb' }), '', master), /newline/);
    assert.throws(() => archivePaths(settings({ archive_directory: '/a', archive_touch_file: 'NOARCH' }), '', master), /archive_touch_file/);
    assert.throws(() => archivePaths(settings({ archive_directory: '/a' }), '', testServer({ name: 'x' })), /pgdata of server x/);
  });

  it('archive_command quotes the script and doubles a literal %', () => {
    assert.equal(archiveCommandFor('/var/lib/postgresql/15/handyrep_archive.sh'), '/var/lib/postgresql/15/handyrep_archive.sh %p %f');
    assert.equal(archiveCommandFor("/srv/it's 100%/a.sh"), `'/srv/it'\\''s 100%%/a.sh' %p %f`);
  });
});
