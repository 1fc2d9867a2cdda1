import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PgServer } from '@handyrep/plugin-sdk';
import { controlFileArgv, dataDirectoryArgv, parseRsyncStats, remotePath, rsyncScript, rsyncWord, sshCommand } from './rsync-command.js';
import type { SshHop } from './rsync-command.js';

const scratch = mkdtempSync(join(tmpdir(), 'clone-rsync-cmd-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const HOP: SshHop = { key: '/var/lib/postgresql/.ssh/id_clone', knownHosts: '/etc/handyrep/known_hosts', strict: 'yes', connectTimeoutSeconds: 10 };

function server(name: string, over: Partial<PgServer> = {}): PgServer {
  return { name, role: 'replica', hostname: `10.0.0.${name.slice(-1)}`, port: 5432, pgdata: '/var/lib/postgresql/15/main', configFile: undefined, pgBin: '/usr/lib/postgresql/15/bin', sshUser: 'postgres', sshPort: 2222, ...over };
}

describe('rsync command lines', () => {
  it('the -e ssh command: target port, batch mode, strict host keys, the source\'s key and known_hosts', () => {
    assert.equal(
      sshCommand(server('db3'), HOP),
      'ssh -p 2222 -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=yes -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -o LogLevel=ERROR ' +
        '-i /var/lib/postgresql/.ssh/id_clone -o IdentitiesOnly=yes -o UserKnownHostsFile=/etc/handyrep/known_hosts',
    );
    assert.doesNotMatch(sshCommand(server('db3'), { ...HOP, key: '', knownHosts: '' }), / -i |UserKnownHostsFile/);
    assert.equal(rsyncWord("it's a"), "'it''s a'");
  });

  it('user@host:path destinations; IPv6 bracketed; option-like or odd host names refused', () => {
    assert.equal(remotePath(server('db3'), '/d/'), 'postgres@10.0.0.3:/d/');
    assert.equal(remotePath(server('db3', { hostname: 'fe80::1' }), '/d/'), 'postgres@[fe80::1]:/d/');
    for (const hostname of ['-oProxyCommand=x', 'a b', 'user@host', 'h/x']) {
      assert.throws(() => remotePath(server('db3', { hostname }), '/d/'), /cannot be used as an rsync destination/, hostname);
    }
  });

  it('copies the data directory without process files, WAL, slots and runtime directories, pg_control separately', () => {
    const argv = dataDirectoryArgv(server('db1'), server('db3'), 'ssh', 0);
    assert.deepEqual(argv.slice(0, 7), ['rsync', '--archive', '--whole-file', '-s', '--stats', '-e', 'ssh']);
    for (const pattern of ['/postmaster.pid', '/postmaster.opts', '/pg_wal/*', '/pg_replslot/*', '/global/pg_control', '/standby.signal', '/backup_label']) {
      assert.ok(argv.includes(`--exclude=${pattern}`), pattern);
    }
    assert.deepEqual(argv.slice(-2), ['/var/lib/postgresql/15/main/', 'postgres@10.0.0.3:/var/lib/postgresql/15/main/']);
    assert.ok(dataDirectoryArgv(server('db1'), server('db3'), 'ssh', 800).includes('--bwlimit=800'));
    assert.deepEqual(controlFileArgv(server('db1'), server('db3'), 'ssh').slice(-2), [
      '/var/lib/postgresql/15/main/global/pg_control',
      'postgres@10.0.0.3:/var/lib/postgresql/15/main/global/pg_control',
    ]);
  });

  it('sums rsync --stats over both runs, whatever the thousands separator', () => {
    const out = 'Number of regular files transferred: 1,273\nTotal transferred file size: 30,598,902 bytes\n--- pg_control\nNumber of regular files transferred: 1\nTotal transferred file size: 8.192 bytes\n';
    assert.deepEqual(parseRsyncStats(out), { bytes: 30_607_094, files: 1274 });
    assert.equal(parseRsyncStats('rsync error'), undefined);
  });
});

describe('the rsync script with real rsync (a stand-in ssh runs the remote side locally)', () => {
  /** An `ssh` on PATH that records its argv and runs the remote command here, as sshd would on the target. */
  const bin = join(scratch, 'bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'ssh'),
    [
      '#!/bin/sh',
      `printf '%s\\n' "$@" >> ${JSON.stringify(join(scratch, 'ssh-argv.txt'))}`,
      'while [ $# -gt 0 ]; do case $1 in -p|-o|-i|-l) shift 2 ;; -*) shift ;; *) shift; break ;; esac; done',
      'exec "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, 'ssh'), 0o755);
  const env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` };
  const rsyncInstalled = spawnSync('rsync', ['--version']).status === 0;

  function sourceDirectory(): string {
    const src = join(scratch, 'source data');
    const files: Record<string, string> = {
      PG_VERSION: '15\n',
      'postmaster.pid': '1\n',
      'postmaster.opts': 'x',
      'postgresql.auto.conf': '# auto\n',
      'global/pg_control': 'control',
      'global/1262': 'db',
      'base/1/1259': 'heap',
      'base/1/pg_internal.init': 'cache',
      'base/pgsql_tmp/pgsql_tmp1.0': 'temp',
      'pg_wal/000000010000000000000001': 'wal',
      'pg_wal/archive_status/000000010000000000000001.done': '',
      'pg_replslot/slot1/state': 'slot',
      'pg_stat_tmp/x': 'stat',
      'standby.signal': '',
    };
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(join(src, file, '..'), { recursive: true });
      writeFileSync(join(src, file), content);
    }
    return src;
  }

  it('copies what a replica needs into a hostile target path, leaves out the rest, nothing in the path runs', { skip: rsyncInstalled ? false : 'rsync is not installed' }, () => {
    const src = sourceDirectory();
    // A relative marker: the path has no extra '/' (rsync creates only the last directory), and any command in it would run in scratch.
    const marker = join(scratch, 'pwned');
    const dst = join(scratch, `target 'q' $(touch pwned) \`touch pwned\` ; touch pwned #`);
    const source = server('db1', { pgdata: src });
    const target = server('db3', { pgdata: dst, hostname: 'localhost', sshUser: 'postgres', sshPort: 2222 });
    const sshCmd = sshCommand(target, HOP);
    const script = rsyncScript(dataDirectoryArgv(source, target, sshCmd, 0), controlFileArgv(source, target, sshCmd), 60, 10);
    const run = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env, cwd: scratch });
    assert.equal(run.status, 0, run.stderr);
    const copied = spawnSync('find', ['.', '-mindepth', '1'], { cwd: dst, encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(copied, [
      './PG_VERSION', './base', './base/1', './base/1/1259', './global', './global/1262', './global/pg_control',
      './pg_replslot', './pg_stat_tmp', './pg_wal', './postgresql.auto.conf',
    ]);
    assert.equal(readFileSync(join(dst, 'global', 'pg_control'), 'utf8'), 'control');
    assert.deepEqual(readdirSync(join(dst, 'pg_wal')), []);
    assert.deepEqual(parseRsyncStats(run.stdout), { bytes: 'heapdb15\n# auto\n'.length + 'control'.length, files: 5 });
    assert.equal(existsSync(marker), false);
    const sshArgv = readFileSync(join(scratch, 'ssh-argv.txt'), 'utf8').split('\n');
    assert.deepEqual(sshArgv.slice(0, 4), ['-p', '2222', '-o', 'BatchMode=yes']);
    assert.ok(sshArgv.includes('/var/lib/postgresql/.ssh/id_clone') && sshArgv.includes('UserKnownHostsFile=/etc/handyrep/known_hosts'));
    assert.ok(sshArgv.includes('localhost'), 'rsync hands ssh the target host');
    assert.ok(!sshArgv.some((a) => a.includes('target ')), 'the target path travels inside the rsync protocol (-s), not on the ssh command line');
  });

  it('a failing first run stops the script with its status and says which run failed', { skip: rsyncInstalled ? false : 'rsync is not installed' }, () => {
    const target = server('db3', { pgdata: join(scratch, 'never'), hostname: 'localhost' });
    const source = server('db1', { pgdata: join(scratch, 'no such source') });
    const script = rsyncScript(dataDirectoryArgv(source, target, 'ssh', 0), controlFileArgv(source, target, 'ssh'), 60, 10);
    const run = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /rsync of the data directory exited with status \d+/);
    assert.doesNotMatch(run.stdout, /--- pg_control/);
  });
});
