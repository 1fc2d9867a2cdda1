// The dashboard at / in headless Chromium, against the daemon on a real
// cluster: the banner and server table show the real statuses, the page
// refreshes itself, actions go through a confirmation (cancel sends nothing),
// read-only credentials are told so, server text never becomes HTML, a daemon
// that stops answering is shown as stale, and a killed master is replaced on
// screen by the new one. Saves test/artifacts/dashboard.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startDaemon } from '@handyrep/core/daemon';
import type { Daemon } from '@handyrep/core/daemon';
import { createCluster } from '../harness/index.js';
import type { Cluster } from '../harness/index.js';
import { FAST_FAILOVER } from './scenarios/scenario-support.js';

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium tries to reach Google (refused here).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ADMIN = 'Admin-Pass-1';
const READ = 'Read-Pass-2';
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));
const SCREENSHOT = `${ARTIFACTS}dashboard.png`;
const SCREENSHOT_DARK = `${ARTIFACTS}dashboard-dark.png`;
const XSS_HOST = '<img src=x onerror="window.__xss=\'hostname\'">';
const XSS_USER = '<img src=x onerror="window.__xss=\'log\'">';
const XSS_MESSAGE = '<img src=x onerror="window.__xss=\'message\'">';

/** The page's global object as the evaluated functions see it (the test compiles without the DOM library). */
type PageGlobal = { marker?: string; __xss?: string; getComputedStyle(node: unknown): { backgroundColor: string } };

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function waitFor<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 15_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

describe('dashboard', () => {
  let cluster: Cluster;
  let daemon: Daemon;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  const posts: string[] = [];

  const api = async (path: string, init: { method?: string; body?: unknown; auth?: string } = {}): Promise<{ status: number; json: unknown }> => {
    const response = await fetch(`${daemon.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { authorization: init.auth ?? basic('admin', ADMIN), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
  };
  const text = async (selector: string, on: Page = page): Promise<string> => ((await on.locator(selector).first().textContent()) ?? '').trim();
  const cell = (server: string, column: string): string => `tr[data-server="${server}"] [data-col="${column}"]`;
  const watch = (target: Page): void => {
    target.on('pageerror', (err) => pageErrors.push(err.message));
    target.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  };
  /** Clicks an action button, checks the dialog names the action and target, confirms or cancels. */
  const act = async (button: string, what: string, confirm: boolean, on: Page = page): Promise<void> => {
    await on.locator(button).click();
    const dialog = on.locator('dialog#confirm');
    await dialog.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await text('#confirm-title', on), `${what}?`);
    assert.equal(await text('#confirm-ok', on), what);
    assert.ok((await text('#confirm-text', on)).length > 20, 'the dialog says what will happen');
    await on.locator(confirm ? '#confirm-ok' : '#confirm-cancel').click();
    await dialog.waitFor({ state: 'hidden', timeout: 5000 });
  };
  /** The newest action result once it is no longer running. */
  const result = async (on: Page = page): Promise<string> => {
    const newest = on.locator('#results li').first();
    await waitFor('the action result', async () => !(await newest.getAttribute('class'))?.includes('running'), 120_000);
    return ((await newest.textContent()) ?? '').trim();
  };

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run 'sudo bash test/scripts/setup-system.sh' (it installs chromium)`);
    cluster = await createCluster({ replicas: 2, pgSettings: { wal_receiver_timeout: '2s', wal_sender_timeout: '2s' } });
    const file = cluster.writeConfig(undefined, {
      ...FAST_FAILOVER,
      handyrep: { ...FAST_FAILOVER['handyrep'], authentication_method: 'simple_password_auth' },
      passwords: { admin_password: ADMIN, read_password: READ },
    });
    daemon = await startDaemon(file, { port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    admin = await browser.newContext({ httpCredentials: { username: 'admin', password: ADMIN }, viewport: { width: 1440, height: 900 } });
    page = await admin.newPage();
    watch(page);
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(new URL(request.url()).pathname);
    });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await daemon?.stop();
    await cluster?.teardown();
  });

  it('shows the cluster banner, the servers with their real statuses, lag and the log', async () => {
    const polled = await api('/get_status', { body: { check_type: 'poll' } });
    assert.equal((polled.json as { cluster: { status: string } }).cluster.status, 'healthy', JSON.stringify(polled.json));
    const response = await page.goto(`${daemon.url}/`);
    assert.equal(response?.status(), 200);
    assert.match(String(response?.headers()['content-security-policy']), /frame-ancestors 'none'/);
    assert.doesNotMatch(String(response?.headers()['content-security-policy']), /unsafe-inline/);

    await waitFor('the healthy banner', async () => (await text('#cluster-status')) === 'HEALTHY (1)');
    assert.equal(await page.locator('#cluster').getAttribute('class'), 'st-healthy');
    assert.equal(await page.locator('#cluster').evaluate((node) => (globalThis as unknown as PageGlobal).getComputedStyle(node).backgroundColor), 'rgb(26, 127, 55)', 'green');
    assert.equal(await text('#master-name'), 'pg1');
    assert.match(await text('#cluster-ts'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    assert.equal(await page.locator('#paused').isVisible(), false);
    assert.equal(await text('#access'), 'Access: admin');
    assert.equal(await page.locator('#readonly-banner').isVisible(), false);
    assert.equal(await page.locator('#error-banner').isVisible(), false);

    assert.deepEqual(await page.locator('#servers tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-server'))), ['pg1', 'pg2', 'pg3']);
    for (const [name, role] of [['pg1', 'master'], ['pg2', 'replica'], ['pg3', 'replica']] as const) {
      assert.match(await text(cell(name, 'role')), new RegExp(`^${role}`));
      assert.equal(await text(cell(name, 'enabled')), 'yes');
      await waitFor(`${name} healthy`, async () => (await text(cell(name, 'status'))) === 'healthy (1)');
      assert.equal(await page.locator(`${cell(name, 'status')} .badge`).getAttribute('class'), 'badge st-healthy');
      assert.match(await text(cell(name, 'last-check')), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    }
    assert.match(await text(cell('pg1', 'role')), /current/);
    // Per-role actions: the master can only be verified or restarted from its row.
    assert.deepEqual(await page.locator(`${cell('pg1', 'actions')} button`).evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-action'))), ['verify_server', 'restart']);
    assert.ok((await page.locator(`${cell('pg2', 'actions')} button[data-action="promote"]`).count()) === 1);

    // Lag: measured at verifications (the monitor verifies every 5th check).
    await waitFor('replica lag in the table', async () => /^\d+(\.\d+)? MB$/.test(await text(cell('pg2', 'lag'))), 30_000);
    assert.equal(typeof ((await api('/get_status')).json as { servers: Record<string, { lag_mb?: unknown }> }).servers['pg2']?.lag_mb, 'number');
    assert.match(await text(cell('pg1', 'lag')), /not applicable/);

    const lines = await page.locator('#log li').allTextContents();
    assert.ok(lines.length > 0 && lines.length <= 20, `log lines: ${lines.length}`);
    for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]+ /);
    const newest = (await api('/read_log?numlines=200')).json as string[];
    assert.ok(newest.includes(lines[0] ?? ''), 'the first line shown is a real log entry');
    assert.ok(newest.indexOf(lines[0] ?? '') <= newest.indexOf(lines[lines.length - 1] ?? ''), 'newest first');
  });

  it('refreshes itself: a replica disabled through the API shows without a reload', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as PageGlobal).marker = 'same page';
    });
    const disabled = await api('/disable', { body: { servername: 'pg3' } });
    assert.equal((disabled.json as { result: string }).result, 'SUCCESS', JSON.stringify(disabled.json));
    await waitFor('pg3 shown disabled', async () => (await text(cell('pg3', 'enabled'))) === 'no');
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobal).marker), 'same page', 'no reload happened');
    assert.match(await text('#refreshed'), /^Last refreshed \d\d:\d\d:\d\d UTC/);
    assert.deepEqual(await page.locator(`${cell('pg3', 'actions')} button`).evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-action'))), ['enable', 'rejoin']);
    assert.deepEqual(await page.locator('#failover-target option').evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value)), ['', 'pg2'], 'only enabled replicas are failover targets');
  });

  it('sends nothing when the confirmation is cancelled (button or Escape)', async () => {
    await act('#pause-button', 'Pause automatic actions', false);
    await page.locator('#pause-button').click();
    await page.locator('dialog#confirm').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await page.locator('dialog#confirm').waitFor({ state: 'hidden' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(posts, [], 'no POST was sent');
    assert.equal(daemon.hr.pausedSince(), undefined);
    assert.equal(await page.locator('#paused').isVisible(), false);
    assert.equal(await page.locator('#results li').count(), 0);
  });

  it('pauses and resumes after confirmation; the banner shows the pause', async () => {
    await act('#pause-button', 'Pause automatic actions', true);
    assert.match(await result(), /^Pause automatic actions: SUCCESS/);
    assert.ok(daemon.hr.pausedSince() !== undefined, 'paused');
    await page.locator('#paused').waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await text('#paused'), /^Paused since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    assert.match(String(((await api('/get_status')).json as { cluster: { paused_since?: string } }).cluster.paused_since), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(await page.locator('#pause-button').isVisible(), false);

    await act('#resume-button', 'Resume automatic actions', true);
    assert.match(await result(), /^Resume automatic actions: SUCCESS/);
    assert.equal(daemon.hr.pausedSince(), undefined);
    await page.locator('#paused').waitFor({ state: 'hidden', timeout: 10_000 });
    assert.equal('paused_since' in ((await api('/get_status')).json as { cluster: object }).cluster, false);
    assert.deepEqual(posts, ['/pause', '/resume']);
  });

  it('shows a scheduled switchover and cancels it after confirmation', async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await api('/manual_failover', { body: { newmaster: 'pg2', at } });
    assert.equal((scheduled.json as { result: string; details: string }).result, 'SUCCESS', JSON.stringify(scheduled.json));
    await page.locator('#scheduled').waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await text('#scheduled'), `Switchover scheduled for ${at.slice(0, 19).replace('T', ' ')} UTC: pg1 → pg2. It runs then only if the cluster is healthy; otherwise it is cancelled with an alert.`);
    await act('#cancel-switchover-button', 'Cancel the scheduled switchover', true);
    assert.match(await result(), /^Cancel the scheduled switchover: SUCCESS/);
    await page.locator('#scheduled').waitFor({ state: 'hidden', timeout: 10_000 });
    assert.equal(await page.locator('#cancel-switchover-button').isVisible(), false);
    assert.equal('scheduled_switchover' in ((await api('/get_status')).json as { cluster: object }).cluster, false);
    assert.equal(posts.at(-1), '/cancel_switchover');
    assert.equal(daemon.hr.getMasterName(), 'pg1');
  });

  it("shows the master's replication slots; no synchronous line while synchronous_mode is off", async () => {
    assert.equal(await page.locator('#sync-fact').isVisible(), false);
    await cluster.psql('pg1', "SELECT pg_create_physical_replication_slot('dashboard_probe', true)");
    try {
      const row = page.locator('tr[data-slot="dashboard_probe"]');
      await row.waitFor({ state: 'visible', timeout: 20_000 });
      const cells = await row.locator('td').allTextContents();
      assert.equal(cells[0]?.trim(), 'none', 'a slot of no server');
      assert.equal(cells[1]?.trim(), 'no', 'not active');
      assert.match(cells[2]?.trim() ?? '', /^\d+(\.\d)? (bytes|kB|MB)$/, `retained WAL shown: ${cells[2]}`);
    } finally {
      await cluster.psql('pg1', "SELECT pg_drop_replication_slot('dashboard_probe')");
    }
    await page.locator('tr[data-slot="dashboard_probe"]').waitFor({ state: 'detached', timeout: 20_000 });
  });

  it('runs per-server actions from the row, naming the server in the confirmation', async () => {
    await act(`${cell('pg3', 'actions')} button[data-action="enable"]`, 'Enable pg3', true);
    assert.match(await result(), /^Enable pg3: SUCCESS/);
    await waitFor('pg3 enabled', async () => (await text(cell('pg3', 'enabled'))) === 'yes');
    await act(`${cell('pg3', 'actions')} button[data-action="startup"]`, 'Start pg3', true);
    assert.match(await result(), /^Start pg3: SUCCESS/);
    await waitFor('pg3 healthy again', async () => (await text(cell('pg3', 'status'))) === 'healthy (1)', 30_000);
    assert.match(await page.locator('#results li').first().textContent() ?? '', /accepts connections/, 'the details are shown');
  });

  it('shows server-supplied text as text, never as HTML', async () => {
    // A log line carrying a user name chosen by whoever sends a request ...
    assert.equal((await api('/get_status', { auth: basic(XSS_USER, 'wrong') })).status, 401);
    // ... a host name from a server definition ...
    const added = await api('/add_server', { body: { servername: 'evil', serverprops: { hostname: XSS_HOST, role: 'replica' } } });
    assert.equal((added.json as { result: string }).result, 'SUCCESS', JSON.stringify(added.json));
    // ... and a status message (set in the registry, as a check's error text would be: a disabled server is not polled over it).
    const registry = (daemon.hr as unknown as { runtime: { registry: { setStatus(name: string, fields: object): void } } }).runtime.registry;
    registry.setStatus('evil', { status: 'warning', status_no: 3, status_ts: '2030-01-01 00:00:00', status_message: XSS_MESSAGE });
    await waitFor('the injected texts on the page', async () =>
      (await text(cell('evil', 'message'))) === XSS_MESSAGE && (await page.locator('#log').textContent())?.includes(XSS_USER) === true);
    assert.equal(await text(`${cell('evil', 'name')} .host`), XSS_HOST);
    assert.equal(await page.locator('img').count(), 0, 'no element was created from the data');
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobal).__xss), undefined, 'no handler ran');
    const removed = await api('/remove', { body: { servername: 'evil' } });
    assert.equal((removed.json as { result: string }).result, 'SUCCESS');
    await waitFor('evil gone', async () => (await page.locator('tr[data-server="evil"]').count()) === 0);
  });

  it('tells read-only users so: actions hidden up front, and a 403 explained if it still happens', async () => {
    const reader = await browser.newContext({ httpCredentials: { username: 'read', password: READ }, viewport: { width: 1440, height: 900 } });
    try {
      const readPage = await reader.newPage();
      watch(readPage);
      await readPage.goto(`${daemon.url}/`);
      await readPage.locator('#readonly-banner').waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(await text('#readonly-banner', readPage), /read-only access/i);
      assert.equal(await text('#access', readPage), 'Access: read-only');
      await readPage.locator(`${cell('pg2', 'actions')} button`).first().waitFor();
      assert.equal(await readPage.locator('button[data-admin="true"]:visible').count(), 0, 'no admin action is offered');
      assert.ok((await readPage.locator('button[data-action="verify_server"]:visible').count()) > 0, 'checks are offered');
      await readPage.close();

      // Access unknown up front (the probe fails): the first action's 403 is explained and the actions disappear.
      const blind = await reader.newPage();
      watch(blind);
      await blind.route((url) => url.pathname === '/pause', (route) => (route.request().method() === 'GET' ? route.abort() : route.fallback()));
      await blind.goto(`${daemon.url}/`);
      await blind.locator('#pause-button').waitFor({ state: 'visible' });
      await waitFor('rows', async () => (await blind.locator('#servers tbody tr').count()) === 3);
      await act('#pause-button', 'Pause automatic actions', true, blind);
      assert.match(await result(blind), /^Pause automatic actions: REFUSED \(read-only access\).*read-only access; pause needs admin credentials/s);
      await blind.locator('#readonly-banner').waitFor({ state: 'visible' });
      assert.equal(await blind.locator('button[data-admin="true"]:visible').count(), 0);
      assert.equal(daemon.hr.pausedSince(), undefined, 'nothing happened');
    } finally {
      await reader.close();
    }
  });

  it('marks the data stale with an error banner while the daemon does not answer, and recovers', async () => {
    const reads = (url: URL): boolean => ['/get_status', '/read_log', '/get_master_name'].includes(url.pathname);
    await page.route(reads, (route) => route.abort('connectionrefused'));
    await page.locator('#error-banner').waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await text('#error-banner'), /^HandyRep is not answering since \d\d:\d\d:\d\d UTC: .*STALE: last good data from/s);
    assert.ok(await page.locator('body.stale').count() === 1);
    assert.equal(await page.locator('#servers tbody tr').count(), 3, 'the last data stays on screen');
    assert.equal(await text('#master-name'), 'pg1');
    await page.unroute(reads);
    await page.locator('#error-banner').waitFor({ state: 'hidden', timeout: 15_000 });
    assert.equal(await page.locator('body.stale').count(), 0);
  });

  it('shows the new master after the master is killed and the monitor fails over', async () => {
    const killedAt = Date.now();
    await cluster.faults.kill('pg1');
    const newMaster = await waitFor('a new master on the dashboard', async () => {
      const shown = await text('#master-name');
      return shown !== 'pg1' && ['pg2', 'pg3'].includes(shown) ? shown : '';
    }, 60_000);
    console.log(`# dashboard: new master ${newMaster} shown ${Date.now() - killedAt} ms after the kill`);
    assert.equal(daemon.hr.getMasterName(), newMaster);
    await waitFor('pg1 shown disabled', async () => (await text(cell('pg1', 'enabled'))) === 'no', 30_000);
    assert.match(await text(cell(newMaster, 'role')), /^master\s*current$/);
    assert.match(await text(cell('pg1', 'status')), /^(down \(5\)|unavailable \(4\))$/);
    assert.ok((await page.locator(`${cell('pg1', 'actions')} button[data-action="rejoin"]`).count()) === 1, 'rejoin is offered for the old master');
    await waitFor('the cluster banner settles', async () => !(await text('#cluster-status')).startsWith('DOWN'), 30_000);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`# dashboard screenshot: ${SCREENSHOT}`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: SCREENSHOT_DARK, fullPage: true });
    console.log(`# dashboard screenshot (dark colour scheme): ${SCREENSHOT_DARK}`);
    await page.emulateMedia({ colorScheme: 'light' });

    // The daemon really stops: the page says so and keeps the last data.
    await daemon.stop();
    await page.locator('#error-banner').waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await text('#master-name'), newMaster);
    assert.deepEqual(pageErrors, [], 'no script errors');
    assert.deepEqual(cspViolations, [], 'nothing blocked by the content security policy');
  });
});
