// poll_connect against a real cluster (master + 2 replicas), through HandyRep
// itself with the core's real SQL client: in_recovery on master and replicas,
// every failure verdict, and no poll outliving its time-out.
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { PollPlugin, PollResult } from '@handyrep/plugin-sdk';
import { createCluster, waitFor } from '../../harness/index.js';
import type { Cluster, ConfOverrides } from '../../harness/index.js';

const TIMEOUT_MS = 1000;
/** What a poll may take beyond its time-out: timers and event-loop scheduling, never a second round trip. */
const MARGIN_MS = 500;
const NX_HOST = 'handyrep-no-such-host.invalid';
const WRONG_PASSWORD = 'Not-The-Password-4711';

let cluster: Cluster;
const opened: HandyRep[] = [];

/** Opens HandyRep on a config of its own (own server and log file) and returns its poll_connect instance. */
async function openPoller(name: string, extra: ConfOverrides = {}): Promise<PollPlugin> {
  const overrides: ConfOverrides = {
    failover: { poll_method: 'poll_connect', replication_status_method: null, selection_method: null },
    server_defaults: { restart_method: null, promotion_method: null, clone_method: null },
    'plugins.poll_connect': { timeout_ms: TIMEOUT_MS },
    'servers.noport': { hostname: cluster.master.address, role: 'replica', port: 5999 },
    'servers.nxhost': { hostname: NX_HOST, role: 'replica' },
    ...extra,
    handyrep: { server_file: join(cluster.baseDir, `${name}.save`), log_file: join(cluster.baseDir, `${name}.log`), ...(extra.handyrep ?? {}) },
  };
  const hr = await HandyRep.open(cluster.writeConfig(join(cluster.baseDir, `${name}.conf`), overrides));
  opened.push(hr);
  const instance = hr.pluginInstance('poll', 'poll_connect');
  assert.ok(instance, 'poll_connect is loaded');
  return instance;
}

let poller: PollPlugin;

/** Polls and checks the call itself, not only the reported duration, stays within the time-out. */
async function timedPoll(server: string, using: PollPlugin = poller): Promise<PollResult & { wall_ms: number }> {
  const started = performance.now();
  const result = await using.poll(server);
  const wall_ms = Math.round(performance.now() - started);
  assert.ok(wall_ms <= TIMEOUT_MS + MARGIN_MS, `poll of ${server} took ${wall_ms} ms (timeout ${TIMEOUT_MS} ms)`);
  assert.ok(result.duration_ms <= wall_ms + 1, `reported ${result.duration_ms} ms, measured ${wall_ms} ms`);
  return { ...result, wall_ms };
}

/** Checks state and result, and `failure`: absent whenever the server answered, else the one given. */
function expectState(result: PollResult, state: PollResult['state'], failure?: PollResult['failure']): void {
  assert.equal(result.state, state, result.details);
  assert.equal(result.result, state === 'accepting' ? 'SUCCESS' : 'FAIL', result.details);
  if (state !== 'accepting') assert.equal(result.in_recovery, undefined);
  assert.equal(result.failure, failure, result.details);
}

/** Polls until the state is no longer `whileState` (a server on its way up or down). */
async function pollUntilNot(server: string, whileState: PollResult['state'], timeoutMs = 15_000): Promise<PollResult> {
  return waitFor(`${server} to leave ${whileState}`, async () => {
    const result = await timedPoll(server);
    return result.state === whileState ? undefined : result;
  }, timeoutMs, 50);
}

describe('poll_connect on a real cluster', { timeout: 120_000 }, () => {
  before(async () => {
    cluster = await createCluster({ replicas: 2, label: 'poll-connect' });
    poller = await openPoller('handyrep');
  });

  after(async () => {
    for (const hr of opened) await hr.close();
    await cluster?.teardown();
  });

  it('reports the master accepting and not in recovery, the replicas accepting and in recovery', async () => {
    for (const [server, inRecovery] of [['pg1', false], ['pg2', true], ['pg3', true]] as const) {
      const result = await timedPoll(server);
      expectState(result, 'accepting');
      assert.equal(result.in_recovery, inRecovery, result.details);
      console.log(`${server}: accepting, in_recovery ${String(result.in_recovery)}, in ${result.duration_ms} ms`);
    }
  });

  it('reports a port where nothing listens as no_response/refused, at once', async () => {
    const result = await timedPoll('noport');
    expectState(result, 'no_response', 'refused');
    assert.match(result.details, /ECONNREFUSED/);
    assert.ok(result.duration_ms < 200, `${result.duration_ms} ms`);
  });

  it('reports a host name that does not exist as bad_config when DNS says so', async () => {
    const dnsSays = await lookup(NX_HOST).then(
      () => 'resolves',
      (err: NodeJS.ErrnoException) => err.code ?? 'error',
    );
    const result = await timedPoll('nxhost');
    expectState(result, dnsSays === 'ENOTFOUND' ? 'bad_config' : 'no_response', dnsSays === 'ENOTFOUND' || dnsSays === 'EAI_AGAIN' ? 'unreachable' : result.failure);
    console.log(`${NX_HOST}: DNS ${dnsSays}, poll ${result.state}/${String(result.failure)} in ${result.duration_ms} ms`);
  });

  it('reports a wrong or missing superuser password as bad_config, never showing the password', async () => {
    const wrong = await openPoller('wrongpw', { passwords: { superuser_password: WRONG_PASSWORD } });
    const result = await timedPoll('pg1', wrong);
    expectState(result, 'bad_config');
    assert.match(result.details, /authentication failed/);
    assert.doesNotMatch(JSON.stringify(result), new RegExp(WRONG_PASSWORD));
    assert.doesNotMatch(JSON.stringify(result), new RegExp(cluster.superuserPassword));

    const missing = await openPoller('nopw', { passwords: { superuser_password: null } });
    const without = await timedPoll('pg1', missing);
    // The server asked for the password that is missing: it answered, so no failure.
    expectState(without, 'bad_config');
    assert.match(without.details, /password/);
    console.log(`wrong password: ${result.details}`);
    console.log(`no password: ${without.details}`);
    assert.doesNotMatch(JSON.stringify(without), new RegExp(cluster.superuserPassword));
  });

  it('reports a SIGSTOPped server as no_response/timeout within the time-out, and accepting once resumed', async () => {
    await cluster.faults.hang('pg2');
    try {
      const result = await timedPoll('pg2');
      expectState(result, 'no_response', 'timeout');
      assert.ok(result.wall_ms >= TIMEOUT_MS - 50, `gave up after ${result.wall_ms} ms`);
      console.log(`SIGSTOP pg2: ${result.state} after ${result.duration_ms} ms (wall ${result.wall_ms} ms): ${result.details}`);
    } finally {
      await cluster.faults.resume('pg2');
    }
    const back = await pollUntilNot('pg2', 'no_response', 5000);
    expectState(back, 'accepting');
    assert.equal(back.in_recovery, true);
  });

  it('reports a partitioned address as no_response/timeout within the time-out, and accepting once healed', async () => {
    await cluster.faults.partition('pg3');
    try {
      const result = await timedPoll('pg3');
      expectState(result, 'no_response', 'timeout');
      assert.ok(result.wall_ms >= TIMEOUT_MS - 50, `gave up after ${result.wall_ms} ms`);
      console.log(`partition pg3: ${result.state} after ${result.duration_ms} ms (wall ${result.wall_ms} ms): ${result.details}`);
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
    assert.match(stopped.details, /ECONNREFUSED/);
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
    const back = await timedPoll('pg3');
    expectState(back, 'accepting');
    assert.equal(back.in_recovery, true);
  });
});
