import { isIP } from 'node:net';

/** One DNS label: letters, digits, '-' inside, '_' tolerated as many internal zones use it. */
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);

/** The address part of a host, without the brackets an IPv6 literal may be written with. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * Why `hostname`/`port` cannot even be tried (pg_isready's exit code 3), or
 * undefined when they are well-formed. Whether the name resolves is the
 * connection attempt's business.
 */
export function targetProblem(hostname: unknown, port: unknown): string | undefined {
  if (typeof hostname !== 'string' || hostname.trim() === '') return 'no hostname is configured';
  const host = bareHost(hostname);
  if (isIP(host) === 0 && (host.length > 253 || !HOST_NAME.test(host))) {
    return `hostname ${JSON.stringify(hostname)} is neither an IP address nor a valid host name`;
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    return `port ${JSON.stringify(port)} is not a TCP port (1-65535)`;
  }
  return undefined;
}
