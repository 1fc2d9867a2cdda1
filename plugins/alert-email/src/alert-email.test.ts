import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '@handyrep/plugin-sdk';
import type { Alert, AlertPlugin } from '@handyrep/plugin-sdk';
import { createTestContext, makeTestCertificates, opensslMissing, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { TestCertificates, TestContext } from '@handyrep/plugin-sdk/testing';
import type { AlertEmailConfig } from './config.js';
import { plugin } from './plugin.js';
import { bodyOf, headerOf, SmtpSink } from './test-support/smtp-sink.js';
import type { SinkOptions } from './test-support/smtp-sink.js';

const PASSWORD = 'smtp-Pa55word-7c1e';
const AT = Date.UTC(2026, 4, 1, 12, 30, 0);
const ALERT: Alert = {
  type: 'failover_started',
  severity: 'critical',
  message: 'failover from db1 started (automatic)',
  server: 'db1',
  cluster_status: 'down',
  at: AT,
};

const noOpenssl = opensslMissing();
if (noOpenssl) console.log(`# alert_email TLS tests skipped: ${noOpenssl}`);

async function setup(
  config: Partial<AlertEmailConfig>,
  secrets: Record<string, string> = { smtp_password: PASSWORD },
): Promise<{ sender: AlertPlugin; kit: TestContext<AlertEmailConfig> }> {
  const kit = createTestContext<AlertEmailConfig>({
    name: 'alert_email',
    config: {
      host: '127.0.0.1',
      port: 25,
      secure: false,
      starttls_required: true,
      ca_file: '',
      from: 'HandyRep <handyrep@example.org>',
      to: ['dba@example.org', 'oncall@example.org'],
      username: '',
      password_key: 'smtp_password',
      timeout_ms: 5_000,
      min_severity: 'info',
      cluster_name: 'prod-eu',
      ...config,
    },
    secrets,
  });
  return { sender: await plugin.create(kit.context), kit };
}

function assertNoPassword(...texts: unknown[]): void {
  const forms = [PASSWORD, Buffer.from(PASSWORD).toString('base64')];
  for (const text of texts) {
    const serialized = typeof text === 'string' ? text : JSON.stringify(text);
    for (const form of forms) assert.ok(!serialized.includes(form), `password leaked into: ${serialized}`);
  }
}

describe('alert_email against a local SMTP server', { skip: noOpenssl }, () => {
  let certs: TestCertificates;
  const sinks: SmtpSink[] = [];
  before(() => {
    certs = makeTestCertificates();
  });
  after(async () => {
    await Promise.all(sinks.map((sink) => sink.close()));
    certs?.dispose();
  });
  async function sink(options: SinkOptions): Promise<SmtpSink> {
    const started = await SmtpSink.start(options);
    sinks.push(started);
    return started;
  }

  it('STARTTLS + AUTH: the message arrives encrypted, with the subject, headers and body', async () => {
    const smtp = await sink({ cert: certs.cert, key: certs.key, credentials: { user: 'hr', password: PASSWORD } });
    const { sender, kit } = await setup({ port: smtp.port, ca_file: certs.caFile, username: 'hr' });
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal((result as { sent?: boolean }).sent, true);
    assert.equal((result as { recipients?: number }).recipients, 2);
    assert.equal(smtp.messages.length, 1);
    const message = smtp.messages[0];
    assert.ok(message);
    assert.equal(message.secure, true);
    assert.equal(message.user, 'hr');
    assert.equal(message.from, 'handyrep@example.org');
    assert.deepEqual(message.to, ['dba@example.org', 'oncall@example.org']);
    assert.equal(headerOf(message.raw, 'Subject'), '[HandyRep prod-eu] critical failover_started: db1');
    assert.equal(headerOf(message.raw, 'X-HandyRep-Alert'), 'failover_started');
    assert.equal(headerOf(message.raw, 'X-HandyRep-Severity'), 'critical');
    assert.equal(headerOf(message.raw, 'X-Priority')?.startsWith('1'), true);
    const body = bodyOf(message.raw);
    assert.match(body, /^HandyRep alert for cluster prod-eu\n\nfailover from db1 started \(automatic\)\n/);
    assert.match(body, /\ntype: +failover_started\n/);
    assert.match(body, /\nserver: +db1\n/);
    assert.match(body, /\ncluster status: +down\n/);
    assert.match(body, /\ntime: +2026-05-01T12:30:00\.000Z\n/);
    assertNoPassword(result, kit.logger.text());
  });

  it('implicit TLS (secure = true)', async () => {
    const smtp = await sink({ secure: true, cert: certs.cert, key: certs.key });
    const { sender } = await setup({ port: smtp.port, secure: true, ca_file: certs.caFile, to: 'dba@example.org' });
    const result = await sender.send({ ...ALERT, severity: 'info', type: 'failover_finished', server: 'db2' });
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(smtp.messages[0]?.secure, true);
    assert.equal(headerOf(smtp.messages[0]?.raw ?? '', 'Subject'), '[HandyRep prod-eu] info failover_finished: db2');
  });

  it('wrong password: FAIL saying authentication was refused, password nowhere, nothing delivered', async () => {
    const smtp = await sink({ cert: certs.cert, key: certs.key, credentials: { user: 'hr', password: 'the-right-one' } });
    const { sender, kit } = await setup({ port: smtp.port, ca_file: certs.caFile, username: 'hr' });
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'FAIL');
    assert.equal((result as { sent?: boolean }).sent, false);
    assert.match(result.details, /NOT e-mailed via 127\.0\.0\.1:\d+: EAUTH: authentication refused/);
    assert.deepEqual(smtp.authAttempts, ['hr']);
    assert.equal(smtp.messages.length, 0);
    assertNoPassword(result, kit.logger.text());
  });

  it('starttls_required and a server offering no STARTTLS: FAIL before any AUTH, nothing sent in the clear', async () => {
    const smtp = await sink({ hideStartTls: true, credentials: { user: 'hr', password: PASSWORD } });
    const { sender, kit } = await setup({ port: smtp.port, username: 'hr' });
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /STARTTLS|TLS/);
    assert.deepEqual(smtp.authAttempts, []);
    assert.equal(smtp.messages.length, 0);
    assertNoPassword(result, kit.logger.text());
  });

  it('starttls_required = false and no STARTTLS: sent unencrypted, with a warning at start', async () => {
    const smtp = await sink({ hideStartTls: true });
    const { sender, kit } = await setup({ port: smtp.port, starttls_required: false });
    assert.ok(kit.logger.lines.some((line) => line.level === 'warn' && /unencrypted/.test(line.message)));
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(smtp.messages[0]?.secure, false);
  });

  it('certificates are verified by default: without ca_file, or with another CA, FAIL', async () => {
    const smtp = await sink({ cert: certs.cert, key: certs.key });
    for (const ca_file of ['', certs.otherCaFile]) {
      const { sender } = await setup({ port: smtp.port, ca_file });
      const result = await sender.send(ALERT);
      assert.equal(result.result, 'FAIL', `ca_file '${ca_file}'`);
      assert.match(result.details, /certificate/i);
    }
    assert.equal(smtp.messages.length, 0);
  });

  it('the certificate must name the host: localhost is fine, a name it does not carry is not', async () => {
    const smtp = await sink({ secure: true, cert: certs.cert, key: certs.key });
    const ok = await (await setup({ host: 'localhost', port: smtp.port, secure: true, ca_file: certs.caFile })).sender.send(ALERT);
    assert.equal(ok.result, 'SUCCESS', ok.details);
    // Same certificate, served on 127.0.0.2, which it does not name.
    const other = await sink({ secure: true, cert: certs.cert, key: certs.key, address: '127.0.0.2' });
    const wrong = await (await setup({ host: '127.0.0.2', port: other.port, secure: true, ca_file: certs.caFile })).sender.send(ALERT);
    assert.equal(wrong.result, 'FAIL');
    assert.match(wrong.details, /certificate does not name this host/);
    assert.equal(other.messages.length, 0);
  });
});

describe('alert_email failures without a mail server', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  before(async () => {
    // Accepts connections and never says a word: the SMTP greeting never comes.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('a server that never greets: FAIL within about timeout_ms', async () => {
    const { sender } = await setup({ port: (silent.address() as AddressInfo).port, timeout_ms: 400 });
    const started = performance.now();
    const result = await sender.send(ALERT);
    const elapsed = performance.now() - started;
    assert.equal(result.result, 'FAIL');
    // Whichever fires first: the overall deadline or nodemailer's greeting time-out (both are timeout_ms).
    assert.match(result.details, /no answer within 400 ms|ETIMEDOUT: Greeting never received/);
    assert.ok(elapsed >= 350 && elapsed < 3_000, `took ${elapsed} ms`);
  });

  it('nobody listening: FAIL naming the connection error', async () => {
    const port = (silent.address() as AddressInfo).port;
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    assert.notEqual(freePort, port);
    const { sender } = await setup({ port: freePort });
    const result = await sender.send(ALERT);
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /ECONNREFUSED|ECONNECTION/);
  });

  it('skips alerts below min_severity without connecting', async () => {
    const { sender } = await setup({ port: 1, min_severity: 'critical' });
    const result = await sender.send({ ...ALERT, severity: 'warning' });
    assert.equal(result.result, 'SUCCESS');
    assert.equal((result as { sent?: boolean }).sent, false);
    assert.match(result.details, /below min_severity critical/);
  });
});

describe('alert_email start-up checks', () => {
  it('username without its password refuses to start, naming the [passwords] key', async () => {
    await assert.rejects(setup({ username: 'hr', password_key: 'mail_pw' }, {}), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.SECRET_MISSING);
      assert.match(err.message, /\[passwords\] mail_pw \(password_key\) is not set/);
      return true;
    });
    await assert.rejects(setup({ username: 'hr' }, { smtp_password: '' }), /is empty/);
  });

  it('no username: no password needed', async () => {
    await setup({ username: '' }, {});
  });

  it('an unreadable or non-PEM ca_file refuses to start', async () => {
    await assert.rejects(setup({ ca_file: '/nonexistent/ca.pem' }), /ca_file '\/nonexistent\/ca\.pem' cannot be read/);
    await assert.rejects(setup({ ca_file: '/etc/hostname' }), /holds no PEM certificate/);
  });

  it('recipients: a comma-separated string works; empty or non-addresses refuse to start', async () => {
    await setup({ to: 'a@example.org, b@example.org' });
    await assert.rejects(setup({ to: ' , ' }), /no recipient/);
    await assert.rejects(setup({ to: ['dba'] }), /'dba' is not an e-mail address/);
  });

  it('loads through the real core loader with its defaults', async () => {
    const report = await verifyPlugin('alert_email', {
      kind: 'alert',
      config: { host: 'smtp.example.org', from: 'handyrep@example.org', to: ['dba@example.org'] },
    });
    assert.deepEqual(report.config, {
      host: 'smtp.example.org',
      port: 587,
      secure: false,
      starttls_required: true,
      ca_file: '',
      from: 'handyrep@example.org',
      to: ['dba@example.org'],
      username: '',
      password_key: 'smtp_password',
      timeout_ms: 10_000,
      min_severity: 'info',
      cluster_name: '',
    });
    await verifyPlugin('alert_email', { kind: 'alert', config: { host: 'smtp.example.org', from: 'h@example.org', to: 'a@example.org,b@example.org' } });
    await assert.rejects(verifyPlugin('alert_email', { kind: 'alert', config: { from: 'h@example.org', to: ['a@example.org'] } }), /host/);
    await assert.rejects(
      verifyPlugin('alert_email', { kind: 'alert', config: { host: 'h', from: 'h@example.org', to: ['a@example.org'], password: 'x' } }),
      /password|additional/,
    );
  });
});
