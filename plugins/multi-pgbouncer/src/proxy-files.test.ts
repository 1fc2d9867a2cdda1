import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { testServer } from '@handyrep/plugin-sdk/testing';
import { includeCheckScript, includeLine, proxyFiles } from './proxy-files.js';

const scratch = mkdtempSync(join(tmpdir(), 'multi-pgbouncer-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function bouncer(over: Record<string, unknown> = {}) {
  return testServer({ name: 'bouncer1', role: 'pgbouncer', port: 6432, ...over });
}

/** Runs the include check with a real shell and grep against an ini holding `text`. */
function check(text: string, databases = '/etc/pgbouncer/handyrep-databases.ini'): number | null {
  const ini = join(scratch, 'pgbouncer.ini');
  writeFileSync(ini, text);
  return spawnSync('/bin/sh', ['-c', includeCheckScript({ config: ini, databases })]).status;
}

describe('proxy files', () => {
  it('defaults to Debian paths; per-server keys override them', () => {
    assert.deepEqual(proxyFiles(bouncer()), { config: '/etc/pgbouncer/pgbouncer.ini', databases: '/etc/pgbouncer/handyrep-databases.ini' });
    assert.deepEqual(proxyFiles(bouncer({ pgbouncer_config: '', pgbouncer_databases_file: '/srv/pgb/dbs.ini' })), { config: '', databases: '/srv/pgb/dbs.ini' });
    assert.equal(includeLine({ config: '', databases: '/srv/pgb/dbs.ini' }), '%include /srv/pgb/dbs.ini');
  });

  it('refuses relative paths and paths with spaces, quotes or shell characters', () => {
    for (const bad of ['dbs.ini', '/srv/my dbs.ini', "/srv/it's.ini", '/srv/$x.ini', '/srv/a;b', '/srv/dir/', '']) {
      assert.throws(() => proxyFiles(bouncer({ pgbouncer_databases_file: bad })), { code: 'HR_BAD_ARGUMENT' }, bad);
    }
    assert.throws(() => proxyFiles(bouncer({ pgbouncer_config: 'pgbouncer.ini' })), /pgbouncer_config/);
  });

  it('the include check (real grep) finds the exact line, with blanks around it, and nothing similar', () => {
    assert.equal(check('[pgbouncer]\nlisten_port = 6432\n%include /etc/pgbouncer/handyrep-databases.ini\n'), 0);
    assert.equal(check('[pgbouncer]\n  %include   /etc/pgbouncer/handyrep-databases.ini  \n'), 0);
    assert.equal(check('[pgbouncer]\n;%include /etc/pgbouncer/handyrep-databases.ini\n'), 1, 'a comment is not an include');
    assert.equal(check('%include /etc/pgbouncer/handyrep-databasesXini\n'), 1, 'the dot is literal');
    assert.equal(check('%include /etc/pgbouncer/handyrep-databases.ini.bak\n'), 1);
    assert.equal(check('%include /etc/pgbouncer/a+b.ini\n', '/etc/pgbouncer/a+b.ini'), 0, 'a plus is literal');
    const missing = spawnSync('/bin/sh', ['-c', includeCheckScript({ config: join(scratch, 'none.ini'), databases: '/x.ini' })]).status;
    assert.equal(missing, 2, 'an unreadable pgbouncer.ini is not "missing line"');
  });
});
