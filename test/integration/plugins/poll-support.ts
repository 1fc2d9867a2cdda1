// Shared by the poll plugin integration tests (poll-connect, poll-isready):
// the time-out every poll must keep, the checks made on each poll result, and
// the fault scenarios both plugins go through with the same verdicts. Also the
// raw TCP probe the control and fencing tests use to see a server is down.
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { PollPlugin, PollResult } from '@handyrep/plugin-sdk';
import { waitFor } from '../../harness/index.js';
import type { Cluster, ConfOverrides } from '../../harness/index.js';

export const TIMEOUT_MS = 1000;
/** What a poll may take beyond its time-out: timers and event-loop scheduling, never a second round trip. */
export const MARGIN_MS = 500;
export const NX_HOST = 'handyrep-no-such-host.invalid';

/** A poll result with the wall-clock time the call took. */
export type TimedPollResult = PollResult & { wall_ms: number };

/**
 * Config overrides for a HandyRep that polls with `plugin` (time-out
 * TIMEOUT_MS) and has no other cluster-wide or per-server plugins, with two
 * extra servers: `noport` (the master's address, a port where nothing
 * listens) and `nxhost` (NX_HOST, a name that does not exist).
 */
export function pollOnlyConfig(cluster: Cluster, plugin: string): ConfOverrides {
  return {
    failover: { poll_method: plugin, replication_status_method: null, selection_method: null },
    server_defaults: { restart_method: null, promotion_method: null, clone_method: null },
    [`plugins.${plugin}`]: { timeout_ms: TIMEOUT_MS },
    // Something that is not listening: the master's address, another port.
    'servers.noport': { hostname: cluster.master.address, role: 'replica', port: 5999 },
    'servers.nxhost': { hostname: NX_HOST, role: 'replica' },
  };
}

/** Checks on the results of one poll plugin; see `pollChecks`. */
export interface PollChecks {
  /** Polls and checks the call itself, not only the reported duration, stays within the time-out. */
  timedPoll(server: string, using?: PollPlugin): Promise<TimedPollResult>;
  /** Checks state and result, `in_recovery`, and `failure`: absent whenever the server answered, else the one given. */
  expectState(result: PollResult, state: PollResult['state'], failure?: PollResult['failure']): void;
  /** Polls until the state is no longer `whileState` (a server on its way up or down). */
  pollUntilNot(server: string, whileState: PollResult['state'], timeoutMs?: number): Promise<PollResult>;
  /** Polls `server` (configured as NX_HOST): bad_config/unreachable when DNS says the name does not exist. */
  expectNxHostVerdict(server: string): Promise<void>;
  /**
   * With `fault` applied to `server`: a poll is no_response/timeout, given up
   * only at the time-out (its details matching `details` when given); after
   * `undo`, accepting again (returned as `back`).
   */
  timesOutUnder(
    server: string,
    what: string,
    fault: () => Promise<unknown>,
    undo: () => Promise<unknown>,
    details?: RegExp,
  ): Promise<{ during: TimedPollResult; back: PollResult }>;
  /** A session holds a smart shutdown of `server`: rejecting meanwhile, then no_response/refused with details matching `refused`. */
  smartShutdownThenStopped(cluster: Cluster, server: string, refused: RegExp): Promise<void>;
  /** `server` (a standby) started with hot_standby = off is rejecting (57P03); restarted as it was, it is accepting (returned). */
  hotStandbyOffRejecting(cluster: Cluster, server: string): Promise<TimedPollResult>;
}

/**
 * The checks for the poll plugin `poller()` returns (it is opened in
 * `before`). `reportsInRecovery`: the plugin tells `in_recovery` when the
 * server accepts (poll_connect); otherwise it must never be set.
 */
export function pollChecks(poller: () => PollPlugin, options: { reportsInRecovery: boolean }): PollChecks {
  async function timedPoll(server: string, using: PollPlugin = poller()): Promise<TimedPollResult> {
    const started = performance.now();
    const result = await using.poll(server);
    const wall_ms = Math.round(performance.now() - started);
    assert.ok(wall_ms <= TIMEOUT_MS + MARGIN_MS, `poll of ${server} took ${wall_ms} ms (timeout ${TIMEOUT_MS} ms)`);
    assert.ok(result.duration_ms <= wall_ms + 1, `reported ${result.duration_ms} ms, measured ${wall_ms} ms`);
    return { ...result, wall_ms };
  }

  function expectState(result: PollResult, state: PollResult['state'], failure?: PollResult['failure']): void {
    assert.equal(result.state, state, result.details);
    assert.equal(result.result, state === 'accepting' ? 'SUCCESS' : 'FAIL', result.details);
    if (state !== 'accepting' || !options.reportsInRecovery) assert.equal(result.in_recovery, undefined);
    assert.equal(result.failure, failure, result.details);
  }

  async function pollUntilNot(server: string, whileState: PollResult['state'], timeoutMs = 15_000): Promise<PollResult> {
    return waitFor(`${server} to leave ${whileState}`, async () => {
      const result = await timedPoll(server);
      return result.state === whileState ? undefined : result;
    }, timeoutMs, 50);
  }

  return {
    timedPoll,
    expectState,
    pollUntilNot,

    async expectNxHostVerdict(server) {
      const dnsSays = await lookup(NX_HOST).then(
        () => 'resolves',
        (err: NodeJS.ErrnoException) => err.code ?? 'error',
      );
      const result = await timedPoll(server);
      // NXDOMAIN is a configuration problem; a resolver outage (EAI_AGAIN) is not, whatever this machine's DNS does.
      expectState(result, dnsSays === 'ENOTFOUND' ? 'bad_config' : 'no_response', dnsSays === 'ENOTFOUND' || dnsSays === 'EAI_AGAIN' ? 'unreachable' : result.failure);
      console.log(`${NX_HOST}: DNS ${dnsSays}, poll ${result.state}/${String(result.failure)} in ${result.duration_ms} ms`);
    },

    async timesOutUnder(server, what, fault, undo, details) {
      await fault();
      let during: TimedPollResult;
      try {
        during = await timedPoll(server);
        expectState(during, 'no_response', 'timeout');
        if (details) assert.match(during.details, details);
        assert.ok(during.wall_ms >= TIMEOUT_MS - 50, `gave up after ${during.wall_ms} ms`);
        console.log(`${what}: ${during.state} after ${during.duration_ms} ms (wall ${during.wall_ms} ms): ${during.details}`);
      } finally {
        await undo();
      }
      const back = await pollUntilNot(server, 'no_response', 5000);
      expectState(back, 'accepting');
      return { during, back };
    },

    async smartShutdownThenStopped(cluster, server, refused) {
      // A session keeps a smart shutdown waiting, and meanwhile the postmaster turns new connections away.
      const session = cluster.query(server, 'SELECT pg_sleep(3)', [], { timeoutMs: 10_000 });
      await waitFor(`the held session on ${server}`, async () => {
        const rows = await cluster.query<{ n: string }>(server, "SELECT count(*) AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3)'");
        return Number(rows[0]?.n) > 0;
      });
      const stopping = cluster.faults.stop(server, 'smart');
      try {
        const result = await pollUntilNot(server, 'accepting', 3000);
        expectState(result, 'rejecting');
        assert.match(result.details, /shutting down/);
      } finally {
        await session.catch(() => undefined);
        await stopping;
      }
      const stopped = await timedPoll(server);
      expectState(stopped, 'no_response', 'refused');
      assert.match(stopped.details, refused);
    },

    async hotStandbyOffRejecting(cluster, server) {
      const host = cluster.host(server);
      const original = readFileSync(host.hostConf, 'utf8');
      appendFileSync(host.hostConf, 'hot_standby = off\n');
      try {
        await cluster.faults.start(server, { wait: false });
        const result = await pollUntilNot(server, 'no_response');
        expectState(result, 'rejecting');
        assert.match(result.details, /57P03/);
        await cluster.faults.stop(server);
      } finally {
        writeFileSync(host.hostConf, original);
      }
      await cluster.faults.start(server);
      const back = await timedPoll(server);
      expectState(back, 'accepting');
      return back;
    },
  };
}

/** What a TCP connection attempt to host:port gets: `connected`, `refused`, `timeout`, or another error code. */
export function tcpOutcome(host: string, port: number, timeoutMs = 1000): Promise<'connected' | 'refused' | 'timeout' | string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: string): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.once('connect', () => done('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : String(err.code)));
  });
}
