import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerOptions } from 'smtp-server';

/** One message the sink accepted. */
export interface SunkMessage {
  /** MAIL FROM. */
  from: string;
  /** RCPT TO, in order. */
  to: string[];
  /** Whether the session was encrypted when the message was sent. */
  secure: boolean;
  /** The user the session authenticated as, if any. */
  user: string | undefined;
  /** The raw message (headers and body). */
  raw: string;
}

/** What the sink was asked to do. */
export interface SinkOptions {
  /** Implicit TLS. */
  secure?: boolean;
  /** Certificate and key; without them no TLS at all is offered. */
  cert?: string;
  key?: string;
  /** Offer no STARTTLS. */
  hideStartTls?: boolean;
  /** Loopback address to listen on (default 127.0.0.1). */
  address?: string;
  /** Accepted credentials; undefined: no authentication needed. */
  credentials?: { user: string; password: string };
}

/** A smtp-server on a loopback address that keeps every message, for tests. */
export class SmtpSink {
  /** Messages accepted, oldest first. */
  readonly messages: SunkMessage[] = [];
  /** Every AUTH attempt's user name (no password is kept). */
  readonly authAttempts: string[] = [];

  private constructor(private readonly server: SMTPServer) {}

  /** Starts a sink on a free loopback port. */
  static async start(options: SinkOptions): Promise<SmtpSink> {
    let sink: SmtpSink | undefined;
    const settings: SMTPServerOptions = {
      secure: options.secure ?? false,
      hideSTARTTLS: options.hideStartTls ?? false,
      // Let a client that would authenticate in the clear do so: the client, not the server, must refuse.
      allowInsecureAuth: true,
      authOptional: options.credentials === undefined,
      disabledCommands: options.cert === undefined ? ['STARTTLS'] : [],
      ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key }),
      logger: false,
      onAuth(auth, _session, callback) {
        sink?.authAttempts.push(auth.username ?? '');
        const expected = options.credentials;
        if (expected && auth.username === expected.user && auth.password === expected.password) {
          callback(null, { user: auth.username });
        } else {
          callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
        }
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const from = session.envelope.mailFrom;
          sink?.messages.push({
            from: from === false ? '' : from.address,
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            secure: session.secure,
            user: typeof session.user === 'string' ? session.user : undefined,
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    };
    const server = new SMTPServer(settings);
    sink = new SmtpSink(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, options.address ?? '127.0.0.1', () => resolve());
    });
    return sink;
  }

  /** The port it listens on. */
  get port(): number {
    return (this.server.server.address() as AddressInfo).port;
  }

  /** Stops the server. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The value of header `name` in a raw message, unfolded. */
export function headerOf(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]?.replace(/\r?\n[ \t]+/g, ' ') ?? '';
  const line = head.split(/\r?\n/).find((candidate) => candidate.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** The body of a raw message with CRLF turned into LF. */
export function bodyOf(raw: string): string {
  return raw.split(/\r?\n\r?\n/).slice(1).join('\n\n').replace(/\r\n/g, '\n');
}
