// poll_isready against real PostgreSQL 15 and 17 servers, started in containers
// by the SDK's testing kit (@handyrep/plugin-sdk/testing/postgres). Skipped with
// the reason when no Docker engine answers; `npm test` makes that a failure.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import { postgresContainerProblem, startTestPostgres } from '@handyrep/plugin-sdk/testing/postgres';
import type { TestPostgres } from '@handyrep/plugin-sdk/testing/postgres';
import type { PollIsreadyConfig } from './config.js';
import { plugin } from './plugin.js';

const problem = await postgresContainerProblem();

for (const major of [15, 17] as const) {
  describe(`poll_isready against PostgreSQL ${major} in a container`, { skip: problem, timeout: 120_000 }, () => {
    let pg: TestPostgres;
    const poll = async (timeoutMs = 1000) => {
      const test = createTestContext<PollIsreadyConfig>({
        name: 'poll_isready',
        config: { timeout_ms: timeoutMs, user: '', database: '' },
        servers: [{ name: 'db1', hostname: pg.host, port: pg.port }],
        settings: { handyrep: { postgres_superuser: 'postgres', handyrep_db: pg.database } },
      });
      return (await plugin.create(test.context)).poll('db1');
    };

    before(async () => {
      const started = Date.now();
      pg = await startTestPostgres({ major, database: 'appdb' });
      console.log(`# PostgreSQL ${major} container (${pg.image}) accepting after ${Date.now() - started} ms`);
    });
    after(() => pg?.stop());

    it('is SUCCESS/accepting for a running server', async () => {
      assert.match(await pg.psql('SHOW server_version'), new RegExp(`^${major}\\.`));
      const result = await poll();
      assert.equal(result.result, 'SUCCESS', result.details);
      assert.equal(result.state, 'accepting');
    });

    it('is FAIL/rejecting while the server shuts down', async () => {
      // A session keeps a smart shutdown waiting; meanwhile new connections are refused with 57P03.
      const session = pg.exec([`${pg.pgBin}/psql`, '-X', '-h', pg.socketDir, '-p', String(pg.port), '-c', 'SELECT pg_sleep(20)'], { check: false });
      await waitFor(async () => (await pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")) !== '0');
      await pg.exec([`${pg.pgBin}/pg_ctl`, 'stop', '-D', pg.pgdata, '-m', 'smart', '-W']);
      let result = await poll();
      for (let i = 0; i < 20 && result.state === 'accepting'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        result = await poll();
      }
      assert.equal(result.result, 'FAIL', result.details);
      assert.equal(result.state, 'rejecting', result.details);
      await pg.stopServer('fast');
      await session;
      await pg.startServer();
      assert.equal((await poll()).state, 'accepting');
    });

    it('is FAIL/no_response/timeout when the postmaster hangs, accepting again once it resumes', async () => {
      await pg.signalServer('SIGSTOP');
      try {
        const result = await poll(300);
        assert.equal(result.result, 'FAIL');
        assert.equal(result.state, 'no_response');
        assert.equal(result.failure, 'timeout');
      } finally {
        await pg.signalServer('SIGCONT');
      }
      assert.equal((await poll()).state, 'accepting');
    });

    it('is FAIL/no_response/refused when the server is stopped', async () => {
      await pg.stopServer('fast');
      const result = await poll();
      assert.equal(result.result, 'FAIL');
      assert.equal(result.state, 'no_response');
      assert.equal(result.failure, 'refused');
      await pg.startServer();
      assert.equal((await poll()).state, 'accepting');
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
