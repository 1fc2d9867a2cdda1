// poll_isready against a real cluster (master + 2 replicas), through HandyRep
// itself: every verdict, and that no poll outlives its time-out even when the
// server is SIGSTOPped or its address partitioned.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { PollPlugin } from '@handyrep/plugin-sdk';
import { createCluster, sleep } from '../../harness/index.js';
import type { Cluster } from '../../harness/index.js';
import { MARGIN_MS, pollChecks, pollOnlyConfig, TIMEOUT_MS } from './poll-support.js';

let cluster: Cluster;
let hr: HandyRep;
let poller: PollPlugin;
const { timedPoll, expectState, expectNxHostVerdict, timesOutUnder, smartShutdownThenStopped, hotStandbyOffRejecting } = pollChecks(() => poller, {
  reportsInRecovery: false,
});

describe('poll_isready on a real cluster', { timeout: 120_000 }, () => {
  before(async () => {
    cluster = await createCluster({ replicas: 2, label: 'poll-isready' });
    const file = cluster.writeConfig(undefined, {
      ...pollOnlyConfig(cluster, 'poll_isready'),
      'servers.badhost': { hostname: 'not a host name', role: 'replica' },
    });
    hr = await HandyRep.open(file);
    const instance = hr.pluginInstance('poll', 'poll_isready');
    assert.ok(instance, 'poll_isready is loaded');
    poller = instance;
  });

  after(async () => {
    await hr?.close();
    await cluster?.teardown();
  });

  it('reports the master and both replicas accepting, fast', async () => {
    for (const server of ['pg1', 'pg2', 'pg3']) {
      const result = await timedPoll(server);
      expectState(result, 'accepting');
      assert.match(result.details, /asked for authentication/);
      console.log(`${server}: accepting in ${result.duration_ms} ms`);
    }
  });

  it('answers 99 concurrent polls and leaves nothing in the server logs', async () => {
    const logSizes = cluster.postgresHosts.map((h) => readFileSync(h.logFile).length);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 99 }, (_, i) => poller.poll(`pg${(i % 3) + 1}`)));
    const elapsed = Math.round(performance.now() - started);
    console.log(`99 concurrent polls in ${elapsed} ms, slowest ${Math.max(...results.map((r) => r.duration_ms))} ms`);
    for (const result of results) expectState(result, 'accepting');
    assert.ok(elapsed < TIMEOUT_MS + MARGIN_MS);
    // The server logs a client that leaves mid-authentication with anything but EOF, or resets the connection.
    await sleep(300);
    cluster.postgresHosts.forEach((h, i) => {
      const added = readFileSync(h.logFile).subarray(logSizes[i]).toString('utf8');
      assert.doesNotMatch(added, /handyrep|could not receive|connection reset|expected SASL|incomplete startup/i, `${h.name} log:\n${added}`);
    });
  });

  it('reports a port where nothing listens as no_response/refused, at once', async () => {
    const result = await timedPoll('noport');
    expectState(result, 'no_response', 'refused');
    assert.match(result.details, /refused/);
    assert.ok(result.duration_ms < 200, `${result.duration_ms} ms`);
  });

  it('reports a malformed hostname as bad_config, and a name that does not exist as bad_config when DNS says so', async () => {
    expectState(await timedPoll('badhost'), 'bad_config', 'error');
    await expectNxHostVerdict('nxhost');
  });

  it('reports a SIGSTOPped server as no_response/timeout within the time-out, and accepting once resumed', async () => {
    await timesOutUnder('pg2', 'SIGSTOP pg2', () => cluster.faults.hang('pg2'), () => cluster.faults.resume('pg2'), /connected, but no answer/);
  });

  it('reports a partitioned address as no_response/timeout within the time-out, and accepting once healed', async () => {
    await timesOutUnder('pg3', 'partition pg3', () => cluster.faults.partition('pg3'), () => cluster.faults.heal('pg3'), /no TCP connection within/);
  });

  it('reports a server in smart shutdown as rejecting, and once stopped as no_response/refused', async () => {
    await smartShutdownThenStopped(cluster, 'pg3', /refused/);
  });

  it('reports a standby without hot_standby as rejecting', async () => {
    await hotStandbyOffRejecting(cluster, 'pg3');
  });
});
