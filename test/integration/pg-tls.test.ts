// TLS to PostgreSQL on a real cluster (issue 14): every server has a
// certificate from a test CA and a pg_hba.conf that lets HandyRep's role in
// only over TLS with a client certificate (hostnossl: reject; hostssl: cert)
// and replication only over TLS. HandyRep with pg_sslmode = verify-full
// polls, holds its master watch, fails over and remasters; with another CA
// it refuses every server and says why, and changes nothing.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import { makeTestCertificates, opensslMissing } from '@handyrep/plugin-sdk/testing';
import type { TestCertificates } from '@handyrep/plugin-sdk/testing';
import { createCluster, osUser, waitFor } from '../harness/index.js';
import type { Cluster, ConfOverrides } from '../harness/index.js';
import { FAST_FAILOVER } from './scenarios/scenario-support.js';

/** The role HandyRep connects as: superuser, no password, certificate authentication only. */
const ROLE = 'hr_tls';

const HBA = [
  '# issue 14 TLS test: HandyRep and replication only over TLS',
  'local   all          all                     trust',
  'local   replication  all                     trust',
  `hostnossl all        ${ROLE}  0.0.0.0/0      reject`,
  'hostnossl replication all      0.0.0.0/0      reject',
  `hostssl all          ${ROLE}  127.0.0.0/8    cert`,
  'hostssl replication  all       127.0.0.0/8    scram-sha-256',
  '# the test harness itself checks the cluster as postgres, in clear',
  'host    all          postgres  127.0.0.0/8    scram-sha-256',
  '',
].join('\n');

function merge(...layers: ConfOverrides[]): ConfOverrides {
  const out: ConfOverrides = {};
  for (const layer of layers) {
    for (const [section, values] of Object.entries(layer)) out[section] = values === null ? null : { ...(out[section] ?? {}), ...values };
  }
  return out;
}

describe('TLS to PostgreSQL: pg_sslmode = verify-full against a hostssl-only cluster', { skip: opensslMissing() ?? false }, () => {
  let cluster: Cluster;
  let certs: TestCertificates;
  let tlsDir: string;
  let hr: HandyRep | undefined;

  const tlsConfig = (rootCert: string, name: string): string =>
    cluster.writeConfig(
      join(cluster.baseDir, name),
      merge(FAST_FAILOVER, {
        handyrep: {
          postgres_superuser: ROLE,
          pg_sslmode: 'verify-full',
          pg_sslrootcert: rootCert,
          pg_sslcert: join(tlsDir, 'handyrep.crt'),
          pg_sslkey: join(tlsDir, 'handyrep.key'),
          replication_sslmode: 'verify-full',
          replication_sslrootcert: join(tlsDir, 'ca.crt'),
        },
        // No superuser password at all: the client certificate is HandyRep's only credential.
        passwords: { superuser_password: null },
      }),
    );

  before(async () => {
    cluster = await createCluster({ replicas: 2, pgSettings: { wal_receiver_timeout: '2s', wal_sender_timeout: '2s' } });
    certs = makeTestCertificates({ ipAddresses: cluster.postgresHosts.map((host) => host.address), dnsNames: [], clients: [ROLE] });
    const pg = osUser('postgres');
    tlsDir = join(cluster.baseDir, 'tls');
    mkdirSync(tlsDir, { recursive: true, mode: 0o755 });
    copyFileSync(certs.caFile, join(tlsDir, 'ca.crt'));
    copyFileSync(certs.otherCaFile, join(tlsDir, 'other-ca.crt'));
    copyFileSync(certs.certFile, join(tlsDir, 'server.crt'));
    copyFileSync(certs.keyFile, join(tlsDir, 'server.key'));
    copyFileSync(certs.clients[ROLE]?.certFile ?? '', join(tlsDir, 'handyrep.crt'));
    copyFileSync(certs.clients[ROLE]?.keyFile ?? '', join(tlsDir, 'handyrep.key'));
    for (const file of ['ca.crt', 'other-ca.crt', 'server.crt']) chmodSync(join(tlsDir, file), 0o644);
    chownSync(join(tlsDir, 'server.key'), pg.uid, pg.gid);
    chmodSync(join(tlsDir, 'server.key'), 0o600);
    chmodSync(join(tlsDir, 'handyrep.key'), 0o600);

    await cluster.query(cluster.master, `CREATE ROLE ${ROLE} SUPERUSER LOGIN`);
    for (const host of cluster.postgresHosts) {
      appendFileSync(host.hostConf, ["ssl = on", `ssl_cert_file = '${join(tlsDir, 'server.crt')}'`, `ssl_key_file = '${join(tlsDir, 'server.key')}'`, `ssl_ca_file = '${join(tlsDir, 'ca.crt')}'`, ''].join('\n'));
      writeFileSync(join(host.pgdata, 'pg_hba.conf'), HBA);
      await cluster.query(host, 'SELECT pg_reload_conf()', [], { database: 'postgres' });
    }
    // The replicas connected before TLS was on: make them reconnect, now over TLS (hostnossl replication: reject).
    await waitFor('TLS on every server', async () => {
      for (const host of cluster.postgresHosts) {
        if ((await cluster.query<{ ssl: string }>(host, 'SHOW ssl'))[0]?.ssl !== 'on') return false;
      }
      return true;
    });
    await cluster.query(cluster.master, 'SELECT pg_terminate_backend(pid) FROM pg_stat_replication');
    await waitFor('both replicas streaming over TLS', async () => {
      const rows = await cluster.query<{ n: number }>(cluster.master, "SELECT count(*)::int AS n FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.state = 'streaming' AND s.ssl");
      return rows[0]?.n === 2;
    }, 30_000, 200);
  });

  after(async () => {
    await hr?.close().catch(() => undefined);
    certs?.dispose();
    await cluster?.teardown();
  });

  it('polls, verifies and holds its watch over verified TLS with a client certificate', async () => {
    hr = await HandyRep.open(tlsConfig(join(tlsDir, 'ca.crt'), 'tls.conf'));
    const polled = await hr.pollAll();
    assert.equal(polled.result, 'SUCCESS', JSON.stringify(polled));
    const verified = await hr.verifyAll();
    assert.equal(verified.result, 'SUCCESS', JSON.stringify(verified));
    const status = await hr.getStatus();
    assert.ok('servers' in status);
    for (const name of ['pg1', 'pg2', 'pg3']) assert.equal(status.servers[name]?.status, 'healthy', `${name}: ${status.servers[name]?.status_message}`);

    hr.startMonitor();
    // The master watcher's held connection, seen from the master: TLS, as HandyRep's role.
    await waitFor('the master watch over TLS', async () => {
      const rows = await cluster.query<{ ssl: boolean; usename: string }>(cluster.master, "SELECT s.ssl, a.usename FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'handyrep_watch'");
      return rows.length === 1 && rows[0]?.ssl === true && rows[0]?.usename === ROLE;
    }, 15_000, 100);
    // Nothing of HandyRep's ever reached a server in clear: pg_hba.conf would have refused and logged it.
    for (const host of cluster.postgresHosts) {
      assert.doesNotMatch(readFileSync(host.logFile, 'utf8'), new RegExp(`no pg_hba.conf entry .*user "${ROLE}".*no encryption|pg_hba.conf rejects connection .*user "${ROLE}"`), host.name);
    }
  });

  it('fails over when the master dies and remasters the other replica with verify-full and no password', async () => {
    assert.ok(hr);
    const handyrep = hr;
    assert.ok(await waitFor('a first healthy check', async () => ((await handyrep.getStatus()) as { servers: Record<string, { status: string }> }).servers['pg1']?.status === 'healthy', 10_000));
    await cluster.faults.kill('pg1');
    const newMaster = await waitFor('a new master', async () => (await cluster.findMasters(500)).find((name) => name !== 'pg1'), 30_000, 50);
    await waitFor('the registry names the new master', () => handyrep.getMasterName() === newMaster, 15_000);
    const other = newMaster === 'pg2' ? 'pg3' : 'pg2';
    await waitFor(`${other} streaming from ${newMaster} over TLS`, async () => {
      const rows = await cluster.query<{ application_name: string; ssl: boolean }>(newMaster, "SELECT r.application_name, s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.state = 'streaming'");
      return rows.some((row) => row.application_name === other && row.ssl);
    }, 30_000, 200);
    await handyrep.stopMonitor();

    const conninfo = (await cluster.query<{ setting: string }>(other, "SELECT setting FROM pg_settings WHERE name = 'primary_conninfo'"))[0]?.setting ?? '';
    assert.match(conninfo, /sslmode=verify-full/);
    assert.match(conninfo, new RegExp(`sslrootcert=${join(tlsDir, 'ca.crt').replace(/[.]/g, '\\.')}`));
    assert.match(conninfo, new RegExp(`host=${cluster.host(newMaster).address.replace(/[.]/g, '\\.')}`));
    assert.doesNotMatch(conninfo, /password/);
    assert.doesNotMatch(readFileSync(join(cluster.host(other).pgdata, 'postgresql.auto.conf'), 'utf8'), /password=/);
    const status = (await handyrep.getStatus()) as { servers: Record<string, { enabled: boolean; role: string }> };
    assert.equal(status.servers['pg1']?.enabled, false);
    assert.equal(status.servers[newMaster]?.role, 'master');
    await handyrep.close();
    hr = undefined;
  });

  it('with another CA it refuses every server, says why, and fails nothing over', async () => {
    const mastersBefore = await cluster.findMasters();
    hr = await HandyRep.open(tlsConfig(join(tlsDir, 'other-ca.crt'), 'wrong-ca.conf'));
    const master = hr.getMasterName();
    assert.ok(master);
    const polled = await hr.poll(master);
    assert.equal(polled.result, 'FAIL');
    assert.match(polled.details, /no trusted TLS connection: the server's certificate could not be verified against pg_sslrootcert .*other-ca\.crt \(pg_sslmode = verify-full\)/);
    const verified = await hr.verifyServer(master);
    assert.equal(verified.result, 'FAIL');
    assert.match(JSON.stringify(verified), /refusing server .*could not be verified against pg_sslrootcert .*other-ca\.crt/);
    const failover = await hr.manualFailover();
    assert.equal(failover.result, 'FAIL', JSON.stringify(failover));
    assert.match(failover.details, /no eligible replica/);
    assert.deepEqual(await cluster.findMasters(), mastersBefore, 'the same master, nothing promoted');
    assert.equal(hr.getMasterName(), master);
  });
});
