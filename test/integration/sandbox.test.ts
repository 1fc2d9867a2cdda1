// The sandbox as a newcomer meets it: `node test/dist/sandbox/sandbox.js`
// (what `npm run sandbox` runs after setup and build) as a child process.
// Everything is done with what it prints: the dashboard and web API with the
// printed credentials, the printed psql line through pgbouncer, the printed
// kill command for the master's postmaster, then the failover seen through
// the web API; SIGINT must leave nothing behind and exit 0. Its config must be
// handyrep.conf.example with other passwords.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'ini';
import { cmdline, HARNESS_ROOT, isAlive } from '../harness/index.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const SANDBOX = join(repoRoot, 'test/dist/sandbox/sandbox.js');
const BASE_DIR = '/tmp/handyrep-sandbox';

interface Printed {
  url: string;
  admin: string;
  read: string;
  psqlMaster: string;
  psqlReplica: string;
  kill: string;
  cli: string;
  postmasters: number[];
}

function match(text: string, re: RegExp, what: string): string {
  const m = re.exec(text);
  assert.ok(m?.[1], `the sandbox prints ${what}:\n${text}`);
  return m[1];
}

function parsePrinted(text: string): Printed {
  return {
    url: match(text, /^Dashboard:\s+(http:\/\/\S+?)\/?$/m, 'the dashboard URL'),
    admin: match(text, /user admin, password (\S+)/, 'the admin password'),
    read: match(text, /user read,\s+password (\S+)/, 'the read password'),
    psqlMaster: match(text, /^\s+(PGPASSWORD=\S+ psql "[^"]*dbname=appdb [^"]*")$/m, 'a psql line for appdb'),
    psqlReplica: match(text, /^\s+(PGPASSWORD=\S+ psql "[^"]*dbname=appdb_ro [^"]*")$/m, 'a psql line for appdb_ro'),
    kill: match(text, /^\s+(kill -9 \d+)$/m, "the kill command for the master's postmaster"),
    cli: match(text, /^\s+(node \S+handyrep\.js --url \S+ --user read --password-file \S+ get_status)$/m, 'the command line'),
    postmasters: [...text.matchAll(/postmaster pid (\d+)/g)].map((m) => Number(m[1])),
  };
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Runs a printed shell line (bash, as an operator would paste it). */
function shell(line: string, cwd?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', timeout: 15_000, ...(cwd ? { cwd } : {}) });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Every live process whose command line names the sandbox's base directory. */
function processesUnderBaseDir(): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid && isAlive(Number(name)))
    .map((name) => `${name} ${cmdline(Number(name))}`)
    .filter((line) => line.includes(BASE_DIR));
}

describe('npm run sandbox', { timeout: 90_000 }, () => {
  let child: ChildProcess;
  let stateDir: string;
  let out = '';
  let err = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let printed: Printed;
  const call = async (path: string, auth = basic('admin', printed.admin)): Promise<{ status: number; text: string; json: unknown }> => {
    const response = await fetch(`${printed.url}${path}`, { headers: { authorization: auth }, signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json };
  };

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'handyrep-sandbox-state-'));
    const started = Date.now();
    child = spawn(process.execPath, [SANDBOX, '--state-dir', stateDir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const ready = waitUntil('the sandbox to print its banner', () => (out.includes('Ctrl-C stops HandyRep') ? true : undefined), 60_000);
    const early = exited.then(({ code, signal }) => {
      throw new Error(`the sandbox exited early (${code ?? signal}):\n${out}\n${err}`);
    });
    await Promise.race([ready, early]);
    early.catch(() => undefined);
    printed = parsePrinted(out);
    console.log(`# sandbox up in ${Date.now() - started} ms (as printed: ${/is up \(([^)]+)\)/.exec(out)?.[1]})`);
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const done = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(null), 20_000))]);
      if (done === null) child.kill('SIGKILL');
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('serves the dashboard and get_status with the printed credentials: 3 PostgreSQL servers and the bouncer', async () => {
    const page = await call('/', basic('read', printed.read));
    assert.equal(page.status, 200);
    assert.match(page.text, /HandyRep/);
    assert.equal((await call('/', basic('read', 'wrong'))).status, 401);
    const status = await call('/get_status', basic('read', printed.read));
    assert.equal(status.status, 200, status.text);
    const servers = (status.json as { servers: Record<string, { role: string; enabled: boolean; status: string; hostname: string }> }).servers;
    assert.deepEqual(
      Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, [s.role, s.hostname, s.enabled]])),
      {
        pg1: ['master', '127.0.10.1', true],
        pg2: ['replica', '127.0.10.2', true],
        pg3: ['replica', '127.0.10.3', true],
        bouncer1: ['pgbouncer', '127.0.10.11', true],
      },
    );
    for (const [name, s] of Object.entries(servers)) assert.equal(s.status, 'healthy', `${name}: ${JSON.stringify(s)}`);
    assert.equal((await call('/get_master_name')).json, 'pg1');
    // use_slots is on (handyrep.conf.example): each replica streams through its own slot, shown by get_status.
    const slots = await waitUntil(
      'an active slot for each replica in get_status',
      async () => {
        const cluster = ((await call('/get_status', basic('read', printed.read))).json as { cluster: { replication_slots?: { slot_name: string; server: string | null; active: boolean }[] } }).cluster;
        const active = (cluster.replication_slots ?? []).filter((slot) => slot.active).map((slot) => `${slot.slot_name}:${String(slot.server)}`);
        return active.length === 2 ? active.sort() : undefined;
      },
      10_000,
      200,
    );
    assert.deepEqual(slots, ['pg2:pg2', 'pg3:pg3']);
  });

  it('the printed command line answers get_status through the daemon (run from where the sandbox was started)', () => {
    const cli = shell(printed.cli, repoRoot);
    assert.equal(cli.code, 0, `${cli.stdout}\n${cli.stderr}`);
    assert.match(cli.stdout, /\npg1\s+master\s+127\.0\.10\.1\s+yes\s/);
    assert.match(cli.stdout, /\nsynchronous standbys: ANY 1 \(pg2, pg3\)\n/, 'the synchronous set is shown');
    assert.match(cli.stdout, /\nslot\s+server\s+active\s+retained WAL bytes\n[- ]+\npg2\s+pg2\s+yes\s+\d+\npg3\s+pg3\s+yes\s+\d+/, 'the slots are shown');
  });

  it('writes handyrep.conf.example, with passwords of its own', () => {
    const example = parse(readFileSync(join(repoRoot, 'handyrep.conf.example'), 'utf8'));
    const written = parse(readFileSync(join(stateDir, 'handyrep.conf'), 'utf8'));
    const passwords = (conf: Record<string, unknown>): Record<string, unknown> => conf['passwords'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(passwords(written)).sort(), Object.keys(passwords(example)).sort());
    assert.equal(passwords(written)['admin_password'], printed.admin);
    for (const key of Object.keys(passwords(example))) assert.notEqual(passwords(written)[key], passwords(example)[key], key);
    delete example['passwords'];
    delete written['passwords'];
    assert.deepEqual(written, example, 'sandbox/handyrep.conf and handyrep.conf.example differ beyond [passwords]');
  });

  it('answers SQL through pgbouncer with the printed psql lines: appdb on the master, appdb_ro on a replica', () => {
    const master = shell(`${printed.psqlMaster} -XAt -c "SELECT pg_is_in_recovery(), inet_server_addr()"`);
    assert.equal(master.code, 0, master.stderr);
    assert.equal(master.stdout, 'f|127.0.10.1');
    const replica = shell(`${printed.psqlReplica} -XAt -c "SELECT pg_is_in_recovery()"`);
    assert.equal(replica.code, 0, replica.stderr);
    assert.equal(replica.stdout, 't');
  });

  it('fails over when the printed kill command kills the master, and says so', async () => {
    const killed = Date.now();
    const kill = shell(printed.kill);
    assert.equal(kill.code, 0, kill.stderr);
    const newMaster = await waitUntil(
      'get_master_name to change',
      async () => {
        const name = (await call('/get_master_name')).json;
        return typeof name === 'string' && name !== 'pg1' ? name : undefined;
      },
      20_000,
      200,
    );
    console.log(`# failover to ${newMaster} seen ${Date.now() - killed} ms after the kill`);
    assert.ok(['pg2', 'pg3'].includes(newMaster), newMaster);
    const servers = ((await call('/get_status')).json as { servers: Record<string, { role: string; enabled: boolean; status_message: string }> }).servers;
    assert.equal(servers['pg1']?.enabled, false, JSON.stringify(servers['pg1']));
    assert.match(String(servers['pg1']?.status_message), /failed over/);
    assert.equal(servers[newMaster]?.role, 'master');
    await waitUntil('the failover line', () => (out.includes(`failover: ${newMaster} is the master now (was pg1)`) ? true : undefined), 5000);
    // pgbouncer follows: the same psql line now writes on the new master.
    const writes = await waitUntil(
      'appdb through pgbouncer to reach the new master',
      () => {
        const r = shell(`${printed.psqlMaster} -XAtq -c "CREATE TABLE IF NOT EXISTS sandbox_check (v int); SELECT inet_server_addr()"`);
        return r.code === 0 ? r.stdout : undefined;
      },
      10_000,
      250,
    );
    assert.equal(writes, `127.0.10.${newMaster.slice(2)}`);
  });

  it("reports a restart of the master as a restart, not a failover, and prints the new postmaster's kill command", async () => {
    const master = (await call('/get_master_name')).json;
    assert.equal(typeof master, 'string');
    const before = out.length;
    // Right after the failover another action (its remaster) may still hold the action lock: retry while refused.
    const restarted = await waitUntil(
      `restart ${String(master)} to succeed`,
      async () => {
        const response = await fetch(`${printed.url}/restart`, {
          method: 'POST',
          headers: { authorization: basic('admin', printed.admin), 'content-type': 'application/json' },
          body: JSON.stringify({ servername: master }),
          signal: AbortSignal.timeout(30_000),
        });
        const answer = (await response.json()) as { result: string; details: string };
        if (answer.result !== 'SUCCESS') console.log(`# restart refused, retrying: ${answer.details}`);
        return answer.result === 'SUCCESS' ? answer : undefined;
      },
      20_000,
      500,
    );
    assert.equal(restarted.result, 'SUCCESS');
    const pid = await waitUntil(
      'the restart line',
      () => /is the master again, restarted \(postmaster pid (\d+)\); no failover\n.*fail over: kill -9 (\d+) /.exec(out.slice(before))?.[2],
      10_000,
    ).catch((error: unknown) => assert.fail(`${String(error)}; the sandbox printed:\n${out.slice(before)}`));
    assert.ok(isAlive(Number(pid)), `the printed postmaster ${pid} runs`);
    assert.doesNotMatch(out.slice(before), /failover: /, 'no failover reported');
    assert.equal((await call('/get_master_name')).json, master);
  });

  it('on SIGINT stops the daemon, removes the cluster and exits 0', async () => {
    const slotDir = join(HARNESS_ROOT, 'slots', 'fixed-127.0.10');
    assert.ok(existsSync(BASE_DIR) && existsSync(slotDir));
    const started = Date.now();
    child.kill('SIGINT');
    const { code, signal } = await exited;
    console.log(`# exit after SIGINT in ${Date.now() - started} ms`);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `${out}\n${err}`);
    assert.match(out, /teardown: \d+ processes stopped \(none left\), \/tmp\/handyrep-sandbox removed/);
    assert.equal(existsSync(BASE_DIR), false);
    assert.equal(existsSync(slotDir), false);
    assert.deepEqual(processesUnderBaseDir(), []);
    assert.deepEqual(printed.postmasters.filter(isAlive), [], 'every postmaster is gone');
    await assert.rejects(fetch(`${printed.url}/healthz`, { signal: AbortSignal.timeout(2000) }), 'the web API is closed');
  });
});
