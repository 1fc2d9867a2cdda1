// WAL archive plugins on one real harness cluster (master pg1, replica pg2,
// spare pg3 acting as the archive host with its own sshd), through
// HandyRep.open and the real API path (start_archiving, stop_archiving,
// cleanup_archive): archive_local_dir into a directory on the master,
// archive_remote over the master's own ssh to pg3, archive_delete_find on
// both. Archive directories are full of shell syntax; marker files prove
// nothing in them ran. Subtests run in order and share the cluster.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { ArchiveCleanupPlugin, ArchivePlugin, ReturnDictionary } from '@handyrep/plugin-sdk';
import { createCluster, osUser, serverSection, sleep, type Cluster, type ConfOverrides, type ConfValue } from '../../harness/index.js';

let cluster: Cluster;
const opened: HandyRep[] = [];
const MASTER = 'pg1';
const ARCHIVE_HOST = 'pg3';

/** Plugins this suite does not exercise: configured as none. */
const UNUSED: ConfOverrides = {
  failover: { poll_method: null, replication_status_method: null, selection_method: null },
  server_defaults: { promotion_method: null, clone_method: null },
};

interface Paths {
  script: string;
  touch: string;
  localDir: string;
  remoteDir: string;
  markers: string[];
  sshDir: string;
}
let paths: Paths;

async function open(name: string, overrides: ConfOverrides): Promise<HandyRep> {
  const hr = await HandyRep.open(
    cluster.writeConfig(join(cluster.baseDir, `${name}.conf`), {
      ...UNUSED,
      handyrep: { server_file: join(cluster.baseDir, `${name}.save`), log_file: join(cluster.baseDir, `${name}.log`) },
      ...overrides,
    }),
  );
  opened.push(hr);
  return hr;
}

function localConfig(): ConfOverrides {
  return {
    archive: {
      archiving: true,
      archive_script_method: 'archive_local_dir',
      archive_delete_method: 'archive_delete_find',
      archive_directory: paths.localDir,
      archive_delete_hours: 48,
    },
  };
}

function remoteConfig(extra: Record<string, ConfValue> = {}): ConfOverrides {
  return {
    archive: {
      archiving: true,
      archive_script_method: 'archive_remote',
      archive_delete_method: 'archive_delete_find',
      archive_server: 'vault',
      archive_directory: paths.remoteDir,
      archive_delete_hours: 48,
    },
    'servers.vault': serverSection(cluster, ARCHIVE_HOST, 'archive'),
    'plugins.archive_remote': {
      ssh_identity_file: join(paths.sshDir, 'id_ed25519'),
      ssh_known_hosts_file: join(paths.sshDir, 'known_hosts'),
      ssh_connect_timeout_seconds: 3,
      ...extra,
    },
  };
}

async function timed<R extends ReturnDictionary>(what: string, work: () => Promise<R>): Promise<R> {
  const started = performance.now();
  const result = await work();
  console.log(`# ${what}: ${result.result} in ${Math.round(performance.now() - started)} ms (${result.details})`);
  return result;
}

/** Writes some WAL, then switches segments; returns the name of each completed segment. */
async function switchSegments(count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    await cluster.faults.generateWal(MASTER, 0.3);
    const rows = await cluster.query<{ f: string }>(MASTER, 'SELECT pg_walfile_name(pg_switch_wal()) AS f', [], { timeoutMs: 5000 });
    names.push(rows[0]!.f);
  }
  return names;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Waits until every named segment is in `dir`; returns ms from the call to the last arrival. */
async function waitArrival(dir: string, names: readonly string[]): Promise<number> {
  const started = performance.now();
  await waitFor(`${names.join(', ')} in ${dir}`, () => (names.every((n) => existsSync(join(dir, n))) ? true : undefined));
  return Math.round(performance.now() - started);
}

interface ArchiverStats extends Record<string, unknown> {
  last_archived_wal: string | null;
  failed_count: string;
  archived_count: string;
  ready: number;
}

async function archiver(): Promise<ArchiverStats> {
  const rows = await cluster.query<ArchiverStats>(
    MASTER,
    `SELECT last_archived_wal, failed_count::text, archived_count::text,
            (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready')::int AS ready
       FROM pg_stat_archiver`,
    [],
    { timeoutMs: 5000 },
  );
  return rows[0]!;
}

/** Points archive_command at the pushed script (reloadable; archive_mode is on from the harness). */
async function useScript(script: string): Promise<void> {
  const command = `${script} %p %f`;
  await cluster.query(MASTER, `ALTER SYSTEM SET archive_command = '${command.replace(/'/g, "''")}'`, [], { timeoutMs: 5000 });
  await cluster.query(MASTER, 'SELECT pg_reload_conf()', [], { timeoutMs: 5000 });
  await waitFor('archive_command reloaded', async () => {
    const rows = await cluster.query<{ v: string }>(MASTER, "SELECT current_setting('archive_command') AS v", [], { timeoutMs: 3000 });
    return rows[0]?.v === command ? true : undefined;
  });
}

function segmentsIn(dir: string): string[] {
  return readdirSync(dir).filter((n) => /^[0-9A-F]{24}$/.test(n)).sort();
}

/** Decoys (old, so only their names protect them) and expired WAL files in `dir`; returns both lists. */
function plantForCleanup(dir: string, timeline: string): { expired: string[]; decoys: string[] } {
  const pg = osUser('postgres');
  const expired = [`${timeline}000000000000000A`, `${timeline}000000000000000B`, `${timeline}000000000000000C.partial`, `${timeline}000000000000000B.00000028.backup`];
  const decoys = ['README.txt', 'notes', `${timeline}000000000000000A.bak`, '00000009.history', `${timeline}00000000000000ab`, `.${timeline}000000000000000E.handyrep-tmp.99`];
  for (const name of [...expired, ...decoys]) {
    writeFileSync(join(dir, name), `${name}\n`);
    chownSync(join(dir, name), pg.uid, pg.gid);
  }
  mkdirSync(join(dir, `${timeline}000000000000000D`));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', `${timeline}000000000000000F`), 'nested\n');
  writeFileSync(join(dir, `${timeline}0000000000000010`), 'a new segment-named file\n');
  const old = [...expired, ...decoys, `${timeline}000000000000000D`, 'sub', join('sub', `${timeline}000000000000000F`)];
  execFileSync('touch', ['-h', '-d', '3 days ago', '--', ...old.map((n) => join(dir, n))]);
  return { expired, decoys: [...decoys, `${timeline}000000000000000D`, 'sub', `${timeline}0000000000000010`] };
}

function assertNoMarkers(): void {
  for (const marker of paths.markers) assert.equal(existsSync(marker), false, `${marker} must not exist`);
}

describe('WAL archive plugins on a real cluster', { timeout: 150_000 }, () => {
  let local: HandyRep;

  before(async () => {
    const started = Date.now();
    cluster = await createCluster({ replicas: 1, spares: 1, archiveMode: true, label: 'archive' });
    console.log(`# cluster up in ${Date.now() - started} ms at ${cluster.baseDir}`);
    const master = cluster.host(MASTER);
    const archiveHost = cluster.host(ARCHIVE_HOST);
    const markers = [1, 2, 3, 4].map((n) => join(cluster.baseDir, `PWNED-${n}`));
    paths = {
      script: join(dirname(master.pgdata), 'handyrep_archive.sh'),
      touch: join(dirname(master.pgdata), 'handyrep_noarchiving'),
      localDir: join(master.dir, `local wal 'x' $(touch ${markers[0]}); touch ${markers[1]} #`),
      remoteDir: join(archiveHost.dir, `remote wal "y" \`touch ${markers[2]}\` $(touch ${markers[3]}) & x`),
      markers,
      sshDir: join(master.dir, 'archive-ssh'),
    };
    // The master's postgres user reaches the archive host's sshd with the harness client key and known_hosts.
    const pg = osUser('postgres');
    mkdirSync(paths.sshDir, { mode: 0o700 });
    copyFileSync(cluster.sshKeyPath, join(paths.sshDir, 'id_ed25519'));
    copyFileSync(cluster.knownHostsPath, join(paths.sshDir, 'known_hosts'));
    writeFileSync(join(paths.sshDir, 'empty_known_hosts'), '');
    for (const f of ['', 'id_ed25519', 'known_hosts', 'empty_known_hosts']) chownSync(join(paths.sshDir, f), pg.uid, pg.gid);
    local = await open('local', localConfig());
  });

  after(async () => {
    for (const hr of opened) await hr.close().catch(() => undefined);
    await cluster?.teardown();
  });

  describe('archive_local_dir', () => {
    it('start_archiving pushes a 0700 script and creates the directory; with archive_command on it, segments arrive while writes run', async () => {
      const started = await timed('start_archiving (local)', () => local.startArchiving());
      assert.equal(started.result, 'SUCCESS', started.details);
      const script = statSync(paths.script);
      assert.equal(script.mode & 0o777, 0o700);
      assert.equal(script.uid, osUser('postgres').uid, 'written over SSH as the server ssh_user');
      assert.ok(statSync(paths.localDir).isDirectory());
      await useScript(paths.script);
      const writer = await cluster.startWriter({ host: MASTER, intervalMs: 10 });
      try {
        const t0 = performance.now();
        const names = await switchSegments(3);
        const arrivalMs = await waitArrival(paths.localDir, names);
        console.log(`# local: ${names.length} segments switched and archived in ${Math.round(performance.now() - t0)} ms (last arrival ${arrivalMs} ms after the last switch)`);
        const first = names[0]!;
        const inPgWal = join(cluster.host(MASTER).pgdata, 'pg_wal', first);
        if (existsSync(inPgWal)) assert.ok(readFileSync(inPgWal).equals(readFileSync(join(paths.localDir, first))), 'archived copy is byte-identical');
        assert.equal(statSync(join(paths.localDir, first)).size, 16 * 1024 * 1024);
        await writer.waitForAcks(20);
      } finally {
        await writer.stop();
      }
      assert.deepEqual(readdirSync(paths.localDir).filter((n) => n.includes('handyrep-tmp')), [], 'no temp files left');
      const poll = await local.pluginInstance('archive', 'archive_local_dir')!.poll(MASTER);
      assert.equal(poll.result, 'SUCCESS', poll.details);
      assert.equal((poll as unknown as { archiving: string }).archiving, 'active');
      const verified = await local.verifyAll();
      assert.equal(verified.result, 'SUCCESS', verified.details);
      const status = (await local.getStatus()) as { cluster: { status_message: string } };
      assert.doesNotMatch(status.cluster.status_message, /WAL archiving/, 'healthy archiving raises no cluster issue');
      assertNoMarkers();
    });

    it('stop_archiving: archive_command succeeds without copying, nothing piles up in pg_wal, poll says stopped', async () => {
      const stopped = await timed('stop_archiving (local)', () => local.stopArchiving());
      assert.equal(stopped.result, 'SUCCESS', stopped.details);
      assert.ok(existsSync(paths.touch));
      const before = await archiver();
      const filesBefore = segmentsIn(paths.localDir);
      const names = await switchSegments(2);
      const last = names[names.length - 1]!;
      await waitFor(`pg_stat_archiver to report ${last}`, async () => ((await archiver()).last_archived_wal === last ? true : undefined));
      const statsAfter = await archiver();
      assert.equal(statsAfter.failed_count, before.failed_count, 'no failed attempts');
      assert.equal(statsAfter.ready, 0, 'no .ready files waiting');
      for (const n of names) assert.equal(existsSync(join(paths.localDir, n)), false, `${n} not copied while stopped`);
      assert.deepEqual(segmentsIn(paths.localDir), filesBefore);
      const poll = await local.pluginInstance('archive', 'archive_local_dir')!.poll(MASTER);
      assert.equal((poll as unknown as { archiving: string }).archiving, 'stopped', poll.details);
    });

    it('start_archiving again resumes copying', async () => {
      const started = await local.startArchiving();
      assert.equal(started.result, 'SUCCESS', started.details);
      assert.equal(existsSync(paths.touch), false);
      const names = await switchSegments(1);
      const ms = await waitArrival(paths.localDir, names);
      console.log(`# local: resumed, ${names[0]} arrived ${ms} ms after the switch`);
    });

    it('cleanup_archive deletes exactly the expired WAL files; decoys, history, directories and new files stay', async () => {
      const realSegments = segmentsIn(paths.localDir);
      const { expired, decoys } = plantForCleanup(paths.localDir, '00000009');
      const result = await timed('cleanup_archive (local)', () => local.cleanupArchive());
      assert.equal(result.result, 'SUCCESS', result.details);
      assert.equal((result as unknown as { deleted: number }).deleted, expired.length);
      for (const n of expired) assert.equal(existsSync(join(paths.localDir, n)), false, `${n} deleted`);
      for (const n of [...decoys, ...realSegments]) assert.ok(existsSync(join(paths.localDir, n)), `${n} kept`);
      assert.ok(existsSync(join(paths.localDir, 'sub', '00000009000000000000000F')), 'nothing below the directory touched');
      const again = await local.cleanupArchive();
      assert.equal((again as unknown as { deleted: number }).deleted, 0);
      assertNoMarkers();
    });
  });

  describe('archive_remote', () => {
    let remote: HandyRep;

    before(async () => {
      remote = await open('remote', remoteConfig());
    });

    it('a master that cannot verify the archive host key: start_archiving FAILs saying so, archiving untouched', async () => {
      const bad = await open(
        'remote-bad',
        remoteConfig({ ssh_known_hosts_file: join(paths.sshDir, 'empty_known_hosts'), script_path: join(dirname(paths.script), 'bad_archive.sh') }),
      );
      const result = await timed('start_archiving (unknown host key)', () => bad.startArchiving());
      assert.equal(result.result, 'FAIL');
      assert.match(result.details, /^pushing the archive script to pg1 failed: .*Host key verification failed/s);
      assert.match(readFileSync(paths.script, 'utf8'), /archive_local_dir plugin/, 'the script archive_command runs is unchanged');
      const names = await switchSegments(1);
      await waitArrival(paths.localDir, names);
    });

    it('start_archiving switches the same archive_command to ssh: segments arrive on the archive host, not locally', async () => {
      const started = await timed('start_archiving (remote)', () => remote.startArchiving());
      assert.equal(started.result, 'SUCCESS', started.details);
      assert.ok(statSync(paths.remoteDir).isDirectory(), 'created by the master over ssh');
      const t0 = performance.now();
      const names = await switchSegments(3);
      const arrivalMs = await waitArrival(paths.remoteDir, names);
      console.log(`# remote: ${names.length} segments switched and archived over ssh in ${Math.round(performance.now() - t0)} ms (last arrival ${arrivalMs} ms after the last switch)`);
      for (const n of names) assert.equal(existsSync(join(paths.localDir, n)), false, `${n} went to the archive host only`);
      assert.equal(statSync(join(paths.remoteDir, names[0]!)).uid, osUser('postgres').uid);
      const poll = await remote.pluginInstance('archive', 'archive_remote')!.poll(MASTER);
      assert.equal(poll.result, 'SUCCESS', poll.details);
      assertNoMarkers();
    });

    it('stop_archiving stops the transfers without a backlog; start_archiving resumes them', async () => {
      assert.equal((await remote.stopArchiving()).result, 'SUCCESS');
      const before = await archiver();
      const skipped = await switchSegments(2);
      const last = skipped[skipped.length - 1]!;
      await waitFor(`pg_stat_archiver to report ${last}`, async () => ((await archiver()).last_archived_wal === last ? true : undefined));
      const statsAfter = await archiver();
      assert.equal(statsAfter.failed_count, before.failed_count);
      assert.equal(statsAfter.ready, 0);
      for (const n of skipped) assert.equal(existsSync(join(paths.remoteDir, n)), false, `${n} not sent while stopped`);
      assert.equal((await remote.startArchiving()).result, 'SUCCESS');
      const resumed = await switchSegments(1);
      await waitArrival(paths.remoteDir, resumed);
    });

    it('cleanup_archive runs find on the archive server and deletes only expired WAL files there', async () => {
      const realSegments = segmentsIn(paths.remoteDir);
      const localBefore = readdirSync(paths.localDir).sort();
      const { expired, decoys } = plantForCleanup(paths.remoteDir, '00000008');
      const archiveCleanup: ArchiveCleanupPlugin | undefined = remote.pluginInstance('archive_cleanup', 'archive_delete_find');
      assert.ok(archiveCleanup);
      const result = await timed('cleanup_archive (remote)', () => remote.cleanupArchive());
      assert.equal(result.result, 'SUCCESS', result.details);
      assert.equal((result as unknown as { deleted: number; server: string }).deleted, expired.length);
      assert.equal((result as unknown as { server: string }).server, 'vault');
      for (const n of expired) assert.equal(existsSync(join(paths.remoteDir, n)), false, `${n} deleted`);
      for (const n of [...decoys, ...realSegments]) assert.ok(existsSync(join(paths.remoteDir, n)), `${n} kept`);
      assert.deepEqual(readdirSync(paths.localDir).sort(), localBefore, 'the master directory is not touched');
      assertNoMarkers();
    });

    it('the archive plugin instance reports the master as not failing after all of this', async () => {
      const archive: ArchivePlugin | undefined = remote.pluginInstance('archive', 'archive_remote');
      const poll = await archive!.poll(MASTER);
      assert.equal((poll as unknown as { archiving: string }).archiving, 'active', poll.details);
      assert.equal((await archiver()).ready, 0);
    });
  });
});
