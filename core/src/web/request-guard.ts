import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { fail, withTimeout } from '@handyrep/plugin-sdk';
import type { Logger } from '@handyrep/plugin-sdk';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Listen addresses that mean "every interface". */
const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]']);

/** How long resolving web_listen (a host name) may take when checking it is loopback. */
const LOOKUP_TIMEOUT_MS = 5000;

/** A host name or address as written in a Host header or a setting: lower case, no port, no brackets, no trailing dot. */
export function normalHost(value: string): string {
  let host = value.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end > 0 ? host.slice(1, end) : host.slice(1);
  } else if (host.split(':').length === 2) {
    host = host.slice(0, host.indexOf(':'));
  }
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped form. */
export function isLoopbackAddress(address: string): boolean {
  const bare = normalHost(address).replace(/^::ffff:/, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

/**
 * Whether the web API listening on `listen` can only be reached from this
 * machine: a loopback address, or a name that resolves to loopback addresses only.
 */
export async function listensOnLoopbackOnly(listen: string): Promise<boolean> {
  if (WILDCARDS.has(listen.trim())) return false;
  const host = normalHost(listen);
  if (isIP(host) !== 0) return isLoopbackAddress(host);
  const addresses = await withTimeout(lookup(host, { all: true }), LOOKUP_TIMEOUT_MS, `resolving web_listen ${host} took over ${LOOKUP_TIMEOUT_MS / 1000} s`);
  return addresses.length > 0 && addresses.every((entry) => isLoopbackAddress(entry.address));
}

/**
 * The host names the web API answers to: the listen address, localhost and
 * 127.0.0.1, web_allowed_hosts, and for a wildcard listen address this
 * machine's own addresses and host name (a rebinding attack uses a name of
 * its own, never these).
 */
export function allowedHosts(listen: string, extra: string): Set<string> {
  const hosts = new Set(['localhost', '127.0.0.1']);
  if (WILDCARDS.has(listen.trim())) {
    for (const entries of Object.values(networkInterfaces())) {
      for (const entry of entries ?? []) hosts.add(normalHost(entry.address.replace(/%.*$/, '')));
    }
    hosts.add(normalHost(hostname()));
  } else {
    hosts.add(normalHost(listen));
  }
  for (const name of extra.split(',')) if (name.trim() !== '') hosts.add(normalHost(name));
  return hosts;
}

/** What the request guard needs to know. */
export interface RequestGuardOptions {
  /** Host names the API answers to (see allowedHosts). */
  hosts: ReadonlySet<string>;
  /** `http` or `https`, for the origin the dashboard's own requests carry. */
  scheme: 'http' | 'https';
  /** Where refusals are logged. */
  logger: Logger;
}

/**
 * Refuses, before authentication, a request whose Host header names none of
 * the allowed hosts (DNS rebinding: a page of another site reaching the
 * daemon through a name it controls) and a browser request whose Origin is
 * not the daemon's own (cross-site requests). Both get 403.
 */
export function guardRequest(options: RequestGuardOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const hostHeader = request.headers.host ?? '';
    const host = normalHost(hostHeader);
    if (host === '' || !options.hosts.has(host)) {
      options.logger.warn(`refused a web request for Host ${JSON.stringify(hostHeader.slice(0, 100))} from ${request.ip}: not one of the allowed hosts ([handyrep] web_allowed_hosts)`);
      await reply.code(403).send(fail(`Host '${hostHeader.slice(0, 100)}' is not one this HandyRep answers to; add it to [handyrep] web_allowed_hosts if it is yours`));
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== `${options.scheme}://${hostHeader.toLowerCase()}`) {
      options.logger.warn(`refused a cross-origin web request from ${JSON.stringify(origin.slice(0, 100))} (${request.ip}) to ${request.method} ${request.url.split('?')[0] ?? ''}`);
      await reply.code(403).send(fail('requests from another origin (a page of another site) are refused'));
    }
  };
}

/** Failed logins per client address, and lock-outs. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly lockedUntil = new Map<string, number>();

  /**
   * `maxFailures` failed logins within `windowMs` lock the address out for
   * `windowMs`; `maxTracked` bounds memory against a flood of addresses.
   */
  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxTracked = 10_000,
  ) {}

  /** Milliseconds the address is still locked out for, or 0. */
  lockedFor(address: string): number {
    const until = this.lockedUntil.get(address);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return left;
    this.lockedUntil.delete(address);
    return 0;
  }

  /** Records a failed login; true when it locks the address out. */
  recordFailure(address: string): boolean {
    const now = this.now();
    const recent = (this.failures.get(address) ?? []).filter((at) => now - at < this.windowMs);
    recent.push(now);
    this.failures.delete(address);
    if (recent.length >= this.maxFailures) {
      this.lockedUntil.set(address, now + this.windowMs);
      this.trim(this.lockedUntil);
      return true;
    }
    this.failures.set(address, recent);
    this.trim(this.failures);
    return false;
  }

  /** A successful login forgets the address's earlier failures. */
  recordSuccess(address: string): void {
    this.failures.delete(address);
  }

  private trim(map: Map<string, unknown>): void {
    // Maps iterate in insertion order and entries are re-inserted on use: the first is the stalest.
    while (map.size > this.maxTracked) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) return;
      map.delete(oldest);
    }
  }
}
