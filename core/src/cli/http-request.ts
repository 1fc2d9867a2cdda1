import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** One HTTP(S) request to the daemon. */
export interface HttpRequest {
  /** Full URL, path and query included. */
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Request body (POST). */
  body?: string;
  /** PEM certificates to trust instead of the system's (a private CA). */
  ca?: Buffer;
  /** Deadline for the whole exchange, answer included. */
  timeoutMs: number;
}

/** The daemon's answer. */
export interface HttpResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Why no answer came: each kind gets its own message; all exit 1. */
export type TransportFailure = 'refused' | 'timeout' | 'tls' | 'unreachable' | 'error';

/** A request that got no (usable) answer. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    /** What went wrong, for the caller's wording. */
    readonly failure: TransportFailure,
  ) {
    super(message);
  }
}

/** Answers larger than this are cut off: the biggest real one (read_log 10000) is far smaller. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

function classify(err: NodeJS.ErrnoException): TransportFailure {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return 'refused';
  if (TLS_CODES.test(code) || /certificate|SSL routines|wrong version number/i.test(err.message)) return 'tls';
  if (['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(code)) return 'unreachable';
  return 'error';
}

/**
 * Sends one request with node:http(s), which (unlike Node 20's global fetch)
 * takes a CA per request without an extra dependency. Rejects with a
 * TransportError when there is no complete answer within the deadline.
 */
export function sendHttpRequest(input: HttpRequest): Promise<HttpResponse> {
  const https = input.url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const request = send(
      input.url,
      {
        method: input.method,
        headers: { ...input.headers, ...(input.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(input.body)) }) },
        ...(https && input.ca ? { ca: input.ca } : {}),
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            request.destroy();
            finish(() => reject(new TransportError(`the answer from ${input.url.origin} is larger than ${MAX_BODY_BYTES} bytes`, 'error')));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          finish(() =>
            resolve({
              status: response.statusCode ?? 0,
              contentType: String(response.headers['content-type'] ?? ''),
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          ),
        );
        response.on('error', (err: NodeJS.ErrnoException) => finish(() => reject(new TransportError(err.message, classify(err)))));
      },
    );
    const timer = setTimeout(() => {
      finish(() => reject(new TransportError(`no answer within ${input.timeoutMs / 1000} s`, 'timeout')));
      request.destroy();
    }, input.timeoutMs);
    request.on('error', (err: NodeJS.ErrnoException) => finish(() => reject(new TransportError(err.message, classify(err)))));
    request.end(input.body);
  });
}
