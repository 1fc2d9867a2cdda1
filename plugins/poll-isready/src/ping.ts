import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describeTlsFailure, networkFailureOf, sslRequestMessage } from '@handyrep/plugin-sdk';
import type { PgTls, PollFailure, PollState } from '@handyrep/plugin-sdk';
import { AUTH_OK, readBackendReply } from './backend-reply.js';
import type { BackendReply } from './backend-reply.js';
import { startupMessage, terminateMessage } from './startup-message.js';
import { bareHost } from './target-problem.js';

/** Where to ping and as whom. */
export interface PingRequest {
  /** Host name or address (IPv6 literals may be bracketed). */
  host: string;
  /** TCP port. */
  port: number;
  /** Role named in the startup message. */
  user: string;
  /** Database named in the startup message. */
  database: string;
  /** Milliseconds allowed for everything: lookup, connect, TLS handshake, first answer. */
  timeoutMs: number;
  /** `[handyrep] pg_sslmode` and its files: the startup message goes over TLS when it asks for it first. */
  tls?: PgTls;
}

/** The verdict of one ping, in pg_isready's terms. */
export interface PingOutcome {
  /** accepting / rejecting / no_response / bad_config. */
  state: PollState;
  /** What was observed, for the operator. */
  details: string;
  /** Why no PostgreSQL answer came, when none came. */
  failure?: PollFailure;
}

/** SQLSTATE cannot_connect_now: starting up, shutting down, in crash recovery, or a standby without hot_standby. */
const CANNOT_CONNECT_NOW = '57P03';

/** A reply that arrives in more bytes than this is not a start-up answer. */
const MAX_BUFFERED = 64 * 1024;

/** How long a socket we are done with may take to close politely before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** Startup parameters beyond user and database, identifying us in pg_stat_activity under trust authentication. */
const APPLICATION_NAME = 'handyrep';

/** How the socket is released once the verdict is known. */
type Release = 'destroy' | 'end' | 'terminate';

/** The verdict a server's reply implies, following libpq's PQping. */
export function replyOutcome(reply: Exclude<BackendReply, { kind: 'incomplete' }>): PingOutcome {
  switch (reply.kind) {
    case 'authentication':
      return {
        state: 'accepting',
        details: reply.code === AUTH_OK ? 'accepting connections (authenticated without a password)' : 'accepting connections (asked for authentication)',
      };
    case 'error':
      if (reply.sqlState === CANNOT_CONNECT_NOW) return { state: 'rejecting', details: `rejecting connections: ${reply.message} (SQLSTATE ${reply.sqlState})` };
      // Any other server error still proves a live server that would serve a proper client (wrong role, database, too many clients...).
      if (reply.sqlState !== undefined) return { state: 'accepting', details: `accepting connections (the ping itself was refused: ${reply.message}, SQLSTATE ${reply.sqlState})` };
      return { state: 'no_response', details: `the server answered with an error without SQLSTATE: ${reply.message}`, failure: 'error' };
    case 'unexpected':
      return { state: 'no_response', details: `not a PostgreSQL answer: ${reply.description}`, failure: 'error' };
  }
}

/**
 * The verdict a socket error implies. `answered` says whether any byte of an
 * answer had arrived: a reset before that is a refusal (nothing serves the
 * port), a reset after it is not.
 */
export function socketErrorOutcome(err: Error & { code?: unknown }, host: string, answered = false): PingOutcome {
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (code === 'ECONNREFUSED') return { state: 'no_response', details: 'connection refused (nothing listens there)', failure: 'refused' };
  if (code === 'ENOTFOUND') {
    // A name that does not exist will not start existing by waiting: a configuration problem, unlike a resolver outage.
    return { state: 'bad_config', details: `host name ${JSON.stringify(host)} does not resolve (${code})`, failure: 'unreachable' };
  }
  const network = networkFailureOf(err);
  const failure: PollFailure = network === undefined || (network === 'reset' && answered) ? 'error' : network === 'reset' ? 'refused' : network;
  return { state: 'no_response', details: `connection failed: ${err.message}`, failure };
}

function release(socket: Socket, how: Release): void {
  if (how === 'destroy') {
    socket.destroy();
    return;
  }
  // After AuthenticationOk the backend is a full session: Terminate lets it exit without logging a lost client.
  // During an authentication exchange, by contrast, anything but a password is logged; a bare EOF is not.
  if (how === 'terminate') socket.end(terminateMessage());
  else socket.end();
  const grace = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  grace.unref();
  socket.once('close', () => clearTimeout(grace));
}

/**
 * Opens TCP to the server, sends a StartupMessage and reads the first answer,
 * as libpq's PQping does; never takes longer than `timeoutMs` and never throws.
 */
export function ping(request: PingRequest): Promise<PingOutcome> {
  let startup: Buffer;
  try {
    startup = startupMessage({ user: request.user, database: request.database, application_name: APPLICATION_NAME });
  } catch (err) {
    return Promise.resolve({ state: 'bad_config', details: (err as Error).message, failure: 'error' });
  }
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    let received = Buffer.alloc(0);
    let socket: Socket;

    const finish = (outcome: PingOutcome, how: Release): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      release(stream, how);
      resolve(outcome);
    };

    const timer = setTimeout(() => {
      finish(
        {
          state: 'no_response',
          details: connected
            ? `connected, but no answer to the startup message within ${request.timeoutMs} ms (server hung or overloaded)`
            : `no TCP connection within ${request.timeoutMs} ms`,
          failure: 'timeout',
        },
        'destroy',
      );
    }, request.timeoutMs);

    try {
      socket = connect({ host: bareHost(request.host), port: request.port, noDelay: true });
    } catch (err) {
      clearTimeout(timer);
      resolve({ state: 'bad_config', details: `cannot connect to that address: ${(err as Error).message}`, failure: 'error' });
      return;
    }

    // The stream the startup message and the answer go over: the socket, or TLS over it.
    let stream: Socket = socket;
    const useTls = request.tls?.tlsFirst === true;
    let awaitingTlsAnswer = false;

    const sendStartup = (over: Socket): void => {
      stream = over;
      over.write(startup);
    };
    const onData = (chunk: Buffer): void => {
      // Once decided, whatever else arrives is read and dropped so the close stays orderly.
      if (settled) return;
      received = Buffer.concat([received, chunk]);
      const reply = readBackendReply(received);
      if (reply.kind === 'incomplete') {
        if (received.length > MAX_BUFFERED) finish({ state: 'no_response', details: `no decisive answer in ${received.length} bytes`, failure: 'error' }, 'destroy');
        return;
      }
      const how: Release = reply.kind === 'authentication' ? (reply.code === AUTH_OK ? 'terminate' : 'end') : reply.kind === 'error' ? 'end' : 'destroy';
      finish(replyOutcome(reply), how);
    };
    const startTls = (): void => {
      const tls = request.tls;
      if (!tls) return;
      socket.removeListener('data', onRawData);
      const secure = tlsConnect({ ...tls.options(bareHost(request.host)), socket });
      stream = secure;
      secure.on('secureConnect', () => sendStartup(secure));
      secure.on('data', onData);
      secure.on('error', (err) => {
        const problem = describeTlsFailure(err, tls);
        // A certificate that does not verify proves nothing about the server: HandyRep cannot check it as configured.
        if (problem !== undefined) finish({ state: 'bad_config', details: `no trusted TLS connection: ${problem}`, failure: 'error' }, 'destroy');
        else finish(socketErrorOutcome(err, request.host, received.length > 0), 'destroy');
      });
    };
    const onRawData = (chunk: Buffer): void => {
      if (settled) return;
      if (!awaitingTlsAnswer) {
        onData(chunk);
        return;
      }
      awaitingTlsAnswer = false;
      const answer = String.fromCharCode(chunk[0] ?? 0);
      if (answer === 'S' && chunk.length === 1) {
        startTls();
      } else if (answer === 'N' && chunk.length === 1) {
        if (request.tls?.plainAllowed) sendStartup(socket);
        else finish({ state: 'bad_config', details: `the server does not offer TLS, which pg_sslmode = ${request.tls?.mode ?? 'require'} requires`, failure: 'error' }, 'end');
      } else {
        // An error message (a server too old for SSLRequest) or bytes beyond the 1-byte answer (never to be trusted).
        onData(chunk);
      }
    };

    socket.on('connect', () => {
      connected = true;
      if (useTls) {
        awaitingTlsAnswer = true;
        socket.write(sslRequestMessage());
      } else {
        socket.write(startup);
      }
    });
    socket.on('data', onRawData);
    socket.on('error', (err) => finish(socketErrorOutcome(err, request.host, received.length > 0), 'destroy'));
    socket.on('close', () => {
      // An orderly close is something that listened and let go, so never a refusal.
      const details = connected ? 'the server closed the connection without answering' : 'the connection closed before it was established';
      finish({ state: 'no_response', details, failure: 'error' }, 'destroy');
    });
  });
}
