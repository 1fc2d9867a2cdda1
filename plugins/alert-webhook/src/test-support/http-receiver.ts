import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  url: string;
  /** Request headers (lower-case names). */
  headers: IncomingHttpHeaders;
  /** Body as text. */
  body: string;
}

/** What to answer the n-th request (1-based) with; `hang` never answers. */
export type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

/** A node:http webhook receiver on 127.0.0.1 for tests, answering by a script. */
export class HttpReceiver {
  /** Every request, oldest first. */
  readonly requests: ReceivedRequest[] = [];

  private constructor(
    private readonly server: Server,
    private readonly reply: (request: ReceivedRequest, n: number) => Reply,
  ) {}

  /** Starts a receiver on a free loopback port. */
  static async start(reply: (request: ReceivedRequest, n: number) => Reply): Promise<HttpReceiver> {
    const server = createServer();
    const receiver = new HttpReceiver(server, reply);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        receiver.requests.push(request);
        const answer = receiver.reply(request, receiver.requests.length);
        if (answer === 'hang') return;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return receiver;
  }

  /** The URL of `path` on this receiver. */
  url(path = '/hook'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Stops listening and cuts every open connection, hung ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
