// init_handyrep_db: the state (never passwords) is written to the HandyRep
// table on the master, kept current, and read back at start when it is newer
// than the server file.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import { createCluster } from '../harness/index.js';
import type { Cluster } from '../harness/index.js';

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('state in the HandyRep table', () => {
  let cluster: Cluster;
  let file = '';

  before(async () => {
    cluster = await createCluster({ replicas: 1 });
    file = cluster.writeConfig(undefined, { failover: { poll_method: 'poll_isready' }, server_defaults: { clone_method: null } });
  });

  after(async () => {
    await cluster?.teardown();
  });

  it('creates the table, keeps it current and uses it when it is newer than the file', async () => {
    const serverFile = join(cluster.baseDir, 'servers.save');
    const hr = await HandyRep.open(file);
    const init = await hr.initHandyrepDb();
    assert.equal(init.result, 'SUCCESS', init.details);
    const tableState = async (): Promise<{ generation: number; state: { servers: Record<string, { definition: Record<string, unknown> }> } } | undefined> => {
      const rows = await cluster.query<{ generation: string; state: { servers: Record<string, { definition: Record<string, unknown> }> } }>('pg1', 'SELECT generation, state FROM handyrep.handyrep WHERE id = 1', [], { timeoutMs: 3000 });
      return rows[0] ? { generation: Number(rows[0].generation), state: rows[0].state } : undefined;
    };
    assert.ok(await tableState(), 'the table has the state');

    copyFileSync(serverFile, `${serverFile}.older`);
    const altered = await hr.alterServerDef('pg2', { failover_priority: 7 });
    assert.equal(altered.result, 'SUCCESS', altered.details);
    assert.ok(await waitFor(async () => (await tableState())?.state.servers['pg2']?.definition['failover_priority'] === 7, 5000), 'the table follows changes');
    const fileGeneration = (JSON.parse(readFileSync(serverFile, 'utf8')) as { generation: number }).generation;
    assert.equal((await tableState())?.generation, fileGeneration);
    await hr.close();

    const table = JSON.stringify(await tableState());
    assert.ok(!table.includes(cluster.superuserPassword) && !table.includes(cluster.replicationPassword), 'no password in the table');

    // The server file goes back in time (restored from an old backup): the table is newer and wins.
    copyFileSync(`${serverFile}.older`, serverFile);
    const reopened = await HandyRep.open(file);
    try {
      const info = (await reopened.getServerInfo('pg2')) as unknown as Record<string, { failover_priority: number }>;
      assert.equal(info['pg2']?.failover_priority, 7);
      const log = (await reopened.readLog(30)) as string[];
      assert.ok(log.some((line) => /is newer than .*servers\.save.*using it/.test(line)), log.join('\n'));
    } finally {
      await reopened.close();
    }
  });
});
