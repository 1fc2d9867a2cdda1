// poll_isready against a real cluster (master + 2 replicas), through HandyRep
// itself: every verdict, and that no poll outlives its time-out even when the
// server is SIGSTOPped or its address partitioned.
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { PollPlugin, PollResult } from '@handyrep/plugin-sdk';
import { createCluster, sleep, waitFor } from '../../harness/index.js';
import type { Cluster } from '../../harness/index.js';

const TIMEOUT_MS = 1000;
/** What a poll may take beyond its time-out: timers and event-loop scheduling, never a second round trip. */
const MARGIN_MS = 500;
const NX_HOST = 'handyrep-no-such-host.invalid';

let cluster: Cluster;
let hr: HandyRep;
let poller: PollPlugin;

/** Polls and checks the call itself, not only the reported duration, stays within the time-out. */
async function timedPoll(server: string): Promise<PollResult & { wall_ms: number }> {
  const started = performance.now();
  const result = await poller.poll(server);
  const wall_ms = Math.round(performance.now() - started);
  assert.ok(wall_ms <= TIMEOUT_MS + MARGIN_MS, `poll of ${server} took ${wall_ms} ms (timeout ${TIMEOUT_MS} ms)`);
  assert.ok(result.duration_ms <= wall_ms + 1, `reported ${result.duration_ms} ms, measured ${wall_ms} ms`);
  return { ...result, wall_ms };
}

/** Checks state and result, and `failure`: absent whenever the server answered, else the one given. */
function expectState(result: PollResult, state: PollResult['state'], failure?: PollResult['failure']): void {
  assert.equal(result.state, state, result.details);
  assert.equal(result.result, state === 'accepting' ? 'SUCCESS' : 'FAIL', result.details);
  assert.equal(result.in_recovery, undefined);
  assert.equal(result.failure, failure, result.details);
}

/** Polls until the state is no longer `while` (a server on its way up or down). */
async function pollUntilNot(server: string, whileState: PollResult['state'], timeoutMs = 15_000): Promise<PollResult> {
  return waitFor(`${server} to leave ${whileState}`, async () => {
    const result = await timedPoll(server);
    return result.state === whileState ? undefined : result;
  }, timeoutMs, 50);
}

describe('poll_isready on a real cluster', { timeout: 120_000 }, () => {
  before(async () => {
    cluster = await createCluster({ replicas: 2, label: 'poll-isready' });
    const file = cluster.writeConfig(undefined, {
      failover: { poll_method: 'poll_isready', replication_status_method: null, selection_method: null },
      server_defaults: { restart_method: null, promotion_method: null, clone_method: null },
      'plugins.poll_isready': { timeout_ms: TIMEOUT_MS },
      // Something that is not listening: the master's address, another port.
      'servers.noport': { hostname: cluster.master.address, role: 'replica', port: 5999 },
      'servers.badhost': { hostname: 'not a host name', role: 'replica' },
      'servers.nxhost': { hostname: NX_HOST, role: 'replica' },
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
    const dnsSays = await lookup(NX_HOST).then(
      () => 'resolves',
      (err: NodeJS.ErrnoException) => err.code ?? 'error',
    );
    const result = await timedPoll('nxhost');
    // NXDOMAIN is a configuration problem; a resolver outage (EAI_AGAIN) is not, whatever this machine's DNS does.
    expectState(result, dnsSays === 'ENOTFOUND' ? 'bad_config' : 'no_response', dnsSays === 'ENOTFOUND' || dnsSays === 'EAI_AGAIN' ? 'unreachable' : result.failure);
    console.log(`${NX_HOST}: DNS ${dnsSays}, poll ${result.state}/${String(result.failure)} in ${result.duration_ms} ms`);
  });

  it('reports a SIGSTOPped server as no_response/timeout within the time-out, and accepting once resumed', async () => {
    await cluster.faults.hang('pg2');
    try {
      const result = await timedPoll('pg2');
      expectState(result, 'no_response', 'timeout');
      assert.match(result.details, /connected, but no answer/);
      assert.ok(result.wall_ms >= TIMEOUT_MS - 50, `gave up after ${result.wall_ms} ms`);
      console.log(`SIGSTOP pg2: ${result.state} after ${result.duration_ms} ms (wall ${result.wall_ms} ms)`);
    } finally {
      await cluster.faults.resume('pg2');
    }
    expectState(await pollUntilNot('pg2', 'no_response', 5000), 'accepting');
  });

  it('reports a partitioned address as no_response/timeout within the time-out, and accepting once healed', async () => {
    await cluster.faults.partition('pg3');
    try {
      const result = await timedPoll('pg3');
      expectState(result, 'no_response', 'timeout');
      assert.match(result.details, /no TCP connection within/);
      assert.ok(result.wall_ms >= TIMEOUT_MS - 50, `gave up after ${result.wall_ms} ms`);
      console.log(`partition pg3: ${result.state} after ${result.duration_ms} ms (wall ${result.wall_ms} ms)`);
    } finally {
      await cluster.faults.heal('pg3');
    }
    expectState(await pollUntilNot('pg3', 'no_response', 5000), 'accepting');
  });

  it('reports a server in smart shutdown as rejecting, and once stopped as no_response/refused', async () => {
    // A session keeps a smart shutdown waiting, and meanwhile the postmaster turns new connections away.
    const session = cluster.query('pg3', 'SELECT pg_sleep(3)', [], { timeoutMs: 10_000 });
    await waitFor('the held session on pg3', async () => {
      const rows = await cluster.query<{ n: string }>('pg3', "SELECT count(*) AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3)'");
      return Number(rows[0]?.n) > 0;
    });
    const stopping = cluster.faults.stop('pg3', 'smart');
    try {
      const result = await pollUntilNot('pg3', 'accepting', 3000);
      expectState(result, 'rejecting');
      assert.match(result.details, /shutting down/);
    } finally {
      await session.catch(() => undefined);
      await stopping;
    }
    const stopped = await timedPoll('pg3');
    expectState(stopped, 'no_response', 'refused');
    assert.match(stopped.details, /refused/);
  });

  it('reports a standby without hot_standby as rejecting', async () => {
    const host = cluster.host('pg3');
    const original = readFileSync(host.hostConf, 'utf8');
    appendFileSync(host.hostConf, 'hot_standby = off\n');
    try {
      await cluster.faults.start('pg3', { wait: false });
      const result = await pollUntilNot('pg3', 'no_response');
      expectState(result, 'rejecting');
      assert.match(result.details, /57P03/);
      await cluster.faults.stop('pg3');
    } finally {
      writeFileSync(host.hostConf, original);
    }
    await cluster.faults.start('pg3');
    expectState(await timedPoll('pg3'), 'accepting');
  });
});
