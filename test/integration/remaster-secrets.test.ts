// Issue 14 on a real cluster: remastering never leaves the replication
// password in primary_conninfo (it moves into a 0600 passfile in pgdata,
// nothing in postgresql.auto.conf or pg_settings shows it), and a reclone
// onto a directory that holds no PostgreSQL data directory is refused, the
// files in it untouched, unless the call says force.
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import { createCluster, osUser, serverSection, waitFor } from '../harness/index.js';
import type { Cluster } from '../harness/index.js';

const PASSFILE = 'handyrep-replication.pgpass';

describe('remaster keeps the password out of primary_conninfo; reclone refuses a non-PostgreSQL pgdata', () => {
  let cluster: Cluster;
  let hr: HandyRep;

  /** What each server has as primary_conninfo: in postgresql.auto.conf and as the server reports it. */
  const conninfoOf = async (name: string): Promise<{ file: string; setting: string }> => ({
    file: readFileSync(join(cluster.host(name).pgdata, 'postgresql.auto.conf'), 'utf8'),
    setting: (await cluster.query<{ setting: string }>(name, "SELECT setting FROM pg_settings WHERE name = 'primary_conninfo'"))[0]?.setting ?? '',
  });

  const assertNoPassword = async (name: string): Promise<void> => {
    const { file, setting } = await conninfoOf(name);
    assert.doesNotMatch(file, /password=/, `${name}: postgresql.auto.conf`);
    assert.doesNotMatch(setting, /password=/, `${name}: pg_settings`);
    assert.ok(!file.includes(cluster.replicationPassword) && !setting.includes(cluster.replicationPassword), `${name}: the password itself`);
    const passfile = join(cluster.host(name).pgdata, PASSFILE);
    assert.match(setting, new RegExp(`passfile=${passfile.replace(/[.]/g, '\\.')}`), `${name}: ${setting}`);
    const stat = statSync(passfile);
    assert.equal(stat.mode & 0o777, 0o600, `${name}: passfile mode`);
    assert.equal(stat.uid, osUser('postgres').uid, `${name}: passfile owner`);
    assert.equal(readFileSync(passfile, 'utf8'), `*:*:*:${cluster.replicationUser}:${cluster.replicationPassword}\n`);
  };

  before(async () => {
    cluster = await createCluster({ replicas: 2, spares: 1 });
    const file = cluster.writeConfig(undefined, {
      failover: { auto_failover: false },
      'servers.pg4': serverSection(cluster, 'pg4'),
    });
    hr = await HandyRep.open(file);
  });

  after(async () => {
    await hr?.close();
    await cluster?.teardown();
  });

  it('after a remaster, no password= in postgresql.auto.conf or pg_settings on any replica; they stream', async () => {
    // The harness set the replicas up the common way: the password inside primary_conninfo.
    assert.match((await conninfoOf('pg2')).setting, /password=/);
    for (const replica of ['pg2', 'pg3']) {
      const result = await hr.remaster(replica, 'pg1');
      assert.equal(result.result, 'SUCCESS', JSON.stringify(result));
    }
    await cluster.waitStreaming(['pg2', 'pg3'], 'pg1');
    for (const replica of ['pg2', 'pg3']) await assertNoPassword(replica);
  });

  it('a switchover with remaster keeps it so: the remastered replica has the passfile, no password', async () => {
    const result = await hr.manualFailover('pg2', true);
    assert.equal(result.result, 'SUCCESS', JSON.stringify(result));
    await cluster.waitStreaming(['pg3'], 'pg2');
    await assertNoPassword('pg3');
    assert.match((await conninfoOf('pg3')).setting, new RegExp(`host=${cluster.host('pg2').address.replace(/[.]/g, '\\.')}`));
  });

  it('a reclone onto a pgdata holding a decoy file and no PG_VERSION is refused and the file survives; force clones', async () => {
    const pg4 = cluster.host('pg4');
    const pg = osUser('postgres');
    mkdirSync(pg4.pgdata, { recursive: true, mode: 0o700 });
    chownSync(pg4.pgdata, pg.uid, pg.gid);
    const decoy = join(pg4.pgdata, 'decoy.txt');
    writeFileSync(decoy, 'not a data directory: something the operator keeps here\n');
    chownSync(decoy, pg.uid, pg.gid);

    const refused = await hr.clone('pg4', true);
    assert.equal(refused.result, 'FAIL', JSON.stringify(refused));
    assert.match(refused.details, /is not empty but holds no PostgreSQL data directory \(no PG_VERSION\).*Pass force with reclone.*nothing touched/);
    assert.equal(readFileSync(decoy, 'utf8'), 'not a data directory: something the operator keeps here\n', 'the decoy survives');
    assert.equal(existsSync(join(pg4.pgdata, 'PG_VERSION')), false);

    const forced = await hr.clone('pg4', true, null, true);
    assert.equal(forced.result, 'SUCCESS', JSON.stringify(forced));
    assert.equal(existsSync(decoy), false, 'force emptied it');
    assert.ok(existsSync(join(pg4.pgdata, 'PG_VERSION')));
    const master = hr.getMasterName() ?? '';
    await waitFor('pg4 streaming', async () => {
      const rows = await cluster.query<{ application_name: string }>(master, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'");
      return rows.some((row) => row.application_name === 'pg4');
    }, 30_000, 200);
    await assertNoPassword('pg4');
  });
});
