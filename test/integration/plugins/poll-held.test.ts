// poll_held against a real cluster (master + 2 replicas), through HandyRep
// itself with the core's real SQL client: one held connection per server,
// reused by every poll; a partition or a SIGSTOP while it is open is a
// timeout within the poll time-out; a killed server is refused; a lost
// connection is opened again on the next poll.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { PollPlugin } from '@handyrep/plugin-sdk';
import { createCluster } from '../../harness/index.js';
import type { Cluster } from '../../harness/index.js';
import { pollChecks, pollOnlyConfig } from './poll-support.js';

let cluster: Cluster;
let hr: HandyRep;
let poller: PollPlugin;
const { timedPoll, expectState, expectNxHostVerdict, timesOutUnder, pollUntilNot } = pollChecks(() => poller, { reportsInRecovery: true });

/** Backends of HandyRep's connections to a server (the poll's, while it is held). */
async function handyrepBackends(server: string): Promise<number[]> {
  const rows = await cluster.query<{ pid: number }>(server, "SELECT pid FROM pg_stat_activity WHERE application_name = 'handyrep' ORDER BY pid");
  return rows.map((row) => row.pid);
}

describe('poll_held on a real cluster', { timeout: 120_000 }, () => {
  before(async () => {
    cluster = await createCluster({ replicas: 2, label: 'poll-held' });
    const overrides = { ...pollOnlyConfig(cluster, 'poll_held'), handyrep: { server_file: join(cluster.baseDir, 'held.save'), log_file: join(cluster.baseDir, 'held.log') } };
    hr = await HandyRep.open(cluster.writeConfig(join(cluster.baseDir, 'held.conf'), overrides));
    const instance = hr.pluginInstance('poll', 'poll_held');
    assert.ok(instance, 'poll_held is loaded');
    poller = instance;
  });

  after(async () => {
    await hr?.close();
    await cluster?.teardown();
  });

  it('reports in_recovery, and every poll after the first is one round trip on the same held backend', async () => {
    for (const [server, inRecovery] of [['pg1', false], ['pg2', true], ['pg3', true]] as const) {
      const first = await timedPoll(server);
      expectState(first, 'accepting');
      assert.equal(first.in_recovery, inRecovery);
      const backends = await handyrepBackends(server);
      assert.equal(backends.length, 1, `one held connection on ${server}`);
      const durations: number[] = [];
      for (let i = 0; i < 20; i++) {
        const again = await timedPoll(server);
        expectState(again, 'accepting');
        assert.match(again.details, /on the held connection/);
        durations.push(again.duration_ms);
      }
      assert.deepEqual(await handyrepBackends(server), backends, 'the same backend answered every poll');
      durations.sort((a, b) => a - b);
      console.log(`# ${server}: first poll ${first.duration_ms} ms (opens the connection), held polls median ${durations[10]} ms, max ${durations[19]} ms`);
    }
  });

  it('reports a port where nothing listens as no_response/refused, and a host name that does not exist as bad_config', async () => {
    const result = await timedPoll('noport');
    expectState(result, 'no_response', 'refused');
    await expectNxHostVerdict('nxhost');
  });

  it('the port silently drops packets while the held connection is open: no_response/timeout within the poll time-out, accepting once healed', async () => {
    expectState(await timedPoll('pg3'), 'accepting');
    const { during } = await timesOutUnder('pg3', 'partition pg3 (held connection open)', () => cluster.faults.partition('pg3'), () => cluster.faults.heal('pg3'), /the held connection failed: no answer in time/);
    assert.ok(during.wall_ms <= 1000 + 200, `gave up after ${during.wall_ms} ms (timeout_ms 1000)`);
  });

  it('a SIGSTOPped server with the held connection open: no_response/timeout within the time-out', async () => {
    expectState(await timedPoll('pg2'), 'accepting');
    await timesOutUnder('pg2', 'SIGSTOP pg2 (held connection open)', () => cluster.faults.hang('pg2'), () => cluster.faults.resume('pg2'), /the held connection failed: no answer in time/);
  });

  it('a killed server: the lost connection is replaced at once and the new attempt is refused; after a restart it is accepting again', async () => {
    expectState(await timedPoll('pg3'), 'accepting');
    await cluster.faults.kill('pg3');
    // The backend's end reaches the held connection within milliseconds.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const down = await timedPoll('pg3');
    expectState(down, 'no_response', 'refused');
    assert.match(down.details, /the held connection had been lost since the last poll .*opening a held connection failed: .*ECONNREFUSED/);
    console.log(`# killed pg3: ${down.details} (${down.duration_ms} ms)`);
    await cluster.faults.start('pg3');
    const back = await pollUntilNot('pg3', 'no_response', 10_000);
    expectState(back, 'accepting');
    assert.equal(back.in_recovery, true);
  });
});
