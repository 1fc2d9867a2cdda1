// poll_connect against a real cluster (master + 2 replicas), through HandyRep
// itself with the core's real SQL client: in_recovery on master and replicas,
// every failure verdict, and no poll outliving its time-out.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { PollPlugin } from '@handyrep/plugin-sdk';
import { createCluster } from '../../harness/index.js';
import type { Cluster, ConfOverrides } from '../../harness/index.js';
import { pollChecks, pollOnlyConfig } from './poll-support.js';

const WRONG_PASSWORD = 'Not-The-Password-4711';

let cluster: Cluster;
const opened: HandyRep[] = [];

/** Opens HandyRep on a config of its own (own server and log file) and returns its poll_connect instance. */
async function openPoller(name: string, extra: ConfOverrides = {}): Promise<PollPlugin> {
  const overrides: ConfOverrides = {
    ...pollOnlyConfig(cluster, 'poll_connect'),
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
const { timedPoll, expectState, expectNxHostVerdict, timesOutUnder, smartShutdownThenStopped, hotStandbyOffRejecting } = pollChecks(() => poller, {
  reportsInRecovery: true,
});

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
    await expectNxHostVerdict('nxhost');
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
    const { back } = await timesOutUnder('pg2', 'SIGSTOP pg2', () => cluster.faults.hang('pg2'), () => cluster.faults.resume('pg2'));
    assert.equal(back.in_recovery, true);
  });

  it('reports a partitioned address as no_response/timeout within the time-out, and accepting once healed', async () => {
    await timesOutUnder('pg3', 'partition pg3', () => cluster.faults.partition('pg3'), () => cluster.faults.heal('pg3'));
  });

  it('reports a server in smart shutdown as rejecting, and once stopped as no_response/refused', async () => {
    await smartShutdownThenStopped(cluster, 'pg3', /ECONNREFUSED/);
  });

  it('reports a standby without hot_standby as rejecting', async () => {
    const back = await hotStandbyOffRejecting(cluster, 'pg3');
    assert.equal(back.in_recovery, true);
  });
});
