// Self-test of the docker backend (one container per host, --network host,
// --pid host) on the PostgreSQL 15 image (Debian bookworm). Skipped, with the
// reason, when no Docker engine answers on DOCKER_HOST (a failure under
// HANDYREP_REQUIRE_DOCKER, as in `npm test`); `bash test/harness/docker-engine.sh
// start` starts one here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readlinkSync } from 'node:fs';
import { createCluster, descendants, dockerAvailable, listProcesses, readStat, resolveBackend, run, waitFor, type DockerLauncher } from './index.js';

const noEngine = await dockerAvailable();
if (noEngine !== null && process.env['HANDYREP_REQUIRE_DOCKER']) throw new Error(`HANDYREP_REQUIRE_DOCKER is set but there is no Docker engine: ${noEngine}`);

describe('harness docker backend', { timeout: 180_000 }, () => {
  it("backend 'auto' picks docker only when an engine answers", async () => {
    const r = await resolveBackend('auto');
    assert.equal(r.backend, noEngine === null ? 'docker' : 'local', r.reason);
  });

  it('a cluster in containers: streaming, SSH, faults, teardown', async (t) => {
    if (noEngine !== null) {
      t.skip(`no Docker engine: ${noEngine}`);
      return;
    }
    const started = Date.now();
    const c = await createCluster({ backend: 'docker', replicas: 2, pgbouncer: 1 });
    console.log(`# docker backend, PostgreSQL 15: cluster of 3 + pgbouncer up in ${Date.now() - started} ms`);
    let torn = false;
    try {
      assert.equal(c.launcher.kind, 'docker');
      assert.match((await c.psql('pg1', 'SHOW server_version')), /^15\./);
      assert.equal(c.master.binDir, '/usr/lib/postgresql/15/bin');
      const rows = await c.replicationStatus();
      assert.deepEqual(rows.map((r) => r.state), ['streaming', 'streaming']);
      await c.query('pg1', 'CREATE TABLE d (v int)');
      await c.query('pg1', 'INSERT INTO d VALUES (1)');
      await waitFor('row on pg3', async () => (await c.query('pg3', 'SELECT v FROM d')).length === 1);
      // The postmaster runs inside a container: another mount namespace than ours.
      const pm = c.postmasterPid('pg1')!;
      assert.notEqual(readlinkSync(`/proc/${pm}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'));
      assert.equal((await c.query<{ a: string }>('bouncer1', 'SELECT host(inet_server_addr()) a'))[0]!.a, c.master.address);

      // pg_ctl over SSH inside the container; the daemonized postmaster is found, killed, reaped, restarted.
      const h = c.host('pg3');
      await c.ssh(h, `${h.binDir}/pg_ctl restart -D ${h.pgdata} -m fast -w -l ${h.dir}/pg_ctl.log`, { timeoutMs: 30_000 });
      const pid = c.postmasterPid(h)!;
      assert.equal(readStat(pid)!.ppid, c.hostState(h).reaper!.pid);
      await c.faults.kill(h);
      await waitFor('postmaster reaped', () => !existsSync(`/proc/${pid}`), 5000);
      await c.faults.start(h);
      await c.waitStreaming(['pg3']);

      await c.faults.hang('pg2');
      await assert.rejects(c.query('pg2', 'SELECT 1', [], { timeoutMs: 800 }));
      await c.faults.resume('pg2');
      await c.query('pg2', 'SELECT 1');
      await c.faults.sshDown('pg2');
      assert.notEqual((await c.ssh('pg2', 'true', { check: false })).code, 0);
      await c.faults.sshUp('pg2');
      await c.ssh('pg2', 'true');
      await c.faults.partition('pg2');
      await assert.rejects(c.query('pg2', 'SELECT 1', [], { timeoutMs: 800 }));
      await c.faults.heal('pg2');
      await c.query('pg2', 'SELECT 1');

      const ids = Object.values((c.launcher as DockerLauncher).containerIds());
      assert.equal(ids.length, 4);
      const all = listProcesses();
      const pids = new Set(c.knownPids());
      for (const p of [...pids]) for (const d of descendants(p, all)) pids.add(d.pid);
      const tornAt = Date.now();
      const report = await c.teardown();
      torn = true;
      console.log(`# docker backend: teardown in ${Date.now() - tornAt} ms`);
      assert.deepEqual(report.errors, []);
      assert.deepEqual([...pids].filter((p) => existsSync(`/proc/${p}`)), []);
      const ps = await run('docker', ['ps', '-aq', '--no-trunc']);
      for (const id of ids) assert.ok(!ps.stdout.includes(id), `container ${id} removed`);
      assert.equal(existsSync(c.baseDir), false);
    } finally {
      if (!torn) await c.teardown();
    }
  });
});
