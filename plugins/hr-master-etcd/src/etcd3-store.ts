import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry } from 'cockatiel';
import type { IBackoff } from 'cockatiel';
import { Etcd3, isRecoverableError } from 'etcd3';
import type { IKeyValue, IOptions } from 'etcd3';
import { withTimeout } from '@handyrep/plugin-sdk';
import type { CreateOutcome, EtcdStore, KeyInfo, WatchEvent, WatchHandle } from './store.js';

/** How to reach etcd. */
export interface Etcd3StoreOptions {
  endpoints: string[];
  auth?: { username: string; password: string };
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

function keyInfo(kv: IKeyValue): KeyInfo {
  return { value: kv.value.toString('utf8'), lease: String(kv.lease ?? '0'), modRevision: String(kv.mod_revision) };
}

function deadline(timeoutMs: number): { deadline: Date } {
  return { deadline: new Date(Date.now() + timeoutMs) };
}

/** The etcd3 client (gRPC, etcd v3 API) behind the EtcdStore interface. */
export class Etcd3Store implements EtcdStore {
  private readonly client: Etcd3;

  constructor(options: Etcd3StoreOptions) {
    const clientOptions: IOptions = {
      hosts: options.endpoints,
      // gRPC's own reconnect backoff grows to minutes; an etcd that comes back must be used at once.
      grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000 },
      faultHandling: {
        // A failing member is skipped for a second, then tried again; each call may go to every member once.
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(2) }),
        global: retry(handleWhen(isRecoverableError), { maxAttempts: Math.max(1, options.endpoints.length - 1) }),
        // etcd3 calls next() on this itself (its own default is an ExponentialBackoff too); its typing says IBackoff.
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }) as unknown as IBackoff<unknown>,
      },
    };
    if (options.auth) clientOptions.auth = { username: options.auth.username, password: options.auth.password };
    if (options.tls?.ca || options.tls?.cert) {
      clientOptions.credentials = {
        rootCertificate: options.tls.ca ?? Buffer.alloc(0),
        ...(options.tls.key ? { privateKey: options.tls.key } : {}),
        ...(options.tls.cert ? { certChain: options.tls.cert } : {}),
      };
    }
    this.client = new Etcd3(clientOptions);
  }

  /** The call with a gRPC deadline and, in case the library waits elsewhere (auth, retries), a hard one. */
  private bounded<T>(what: string, timeoutMs: number, work: (options: { deadline: Date }) => Promise<T>): Promise<T> {
    return withTimeout(() => work(deadline(timeoutMs)), timeoutMs + 100, `etcd ${what}: no answer within ${timeoutMs} ms`);
  }

  async grantLease(ttlSeconds: number, timeoutMs: number): Promise<{ id: string; ttlSeconds: number }> {
    const res = await this.bounded('lease grant', timeoutMs, (options) => this.client.leaseClient.leaseGrant({ TTL: ttlSeconds, ID: 0 }, options));
    if (res.error) throw new Error(`etcd lease grant: ${res.error}`);
    return { id: String(res.ID), ttlSeconds: Number(res.TTL) };
  }

  async keepAlive(lease: string, timeoutMs: number): Promise<number> {
    return this.bounded('lease keepalive', timeoutMs, async (options) => {
      const stream = await this.client.leaseClient.leaseKeepAlive(options);
      try {
        return await new Promise<number>((resolve, reject) => {
          stream.on('data', (res: { TTL: string }) => resolve(Number(res.TTL)));
          stream.on('error', reject);
          stream.on('end', () => reject(new Error('etcd lease keepalive: stream ended without an answer')));
          stream.write({ ID: lease });
        });
      } finally {
        stream.end();
      }
    });
  }

  async revokeLease(lease: string, timeoutMs: number): Promise<void> {
    await this.bounded('lease revoke', timeoutMs, (options) => this.client.leaseClient.leaseRevoke({ ID: lease }, options));
  }

  async createIfAbsent(key: string, value: string, lease: string, timeoutMs: number): Promise<CreateOutcome> {
    const res = await this.bounded('transaction', timeoutMs, (options) =>
      this.client
        .if(key, 'Create', '==', 0)
        .then(this.client.put(key).value(value).lease(lease))
        .else(this.client.get(key))
        .options(options)
        .commit(),
    );
    if (res.succeeded) return { created: true };
    const kv = res.responses[0]?.response_range?.kvs[0];
    return { created: false, current: kv ? keyInfo(kv) : undefined };
  }

  async get(key: string, timeoutMs: number): Promise<KeyInfo | undefined> {
    const res = await this.bounded('get', timeoutMs, (options) => this.client.kv.range({ key: Buffer.from(key) }, options));
    const kv = res.kvs[0];
    return kv ? keyInfo(kv) : undefined;
  }

  async putIfHeld(guard: { key: string; value: string; lease: string }, key: string, value: string, timeoutMs: number): Promise<boolean> {
    const res = await this.bounded('guarded put', timeoutMs, (options) =>
      this.client
        .if(guard.key, 'Value', '==', guard.value)
        .and(guard.key, 'Lease', '==', guard.lease)
        .then(this.client.put(key).value(value))
        .options(options)
        .commit(),
    );
    return res.succeeded;
  }

  watch(key: string, onEvent: (event: WatchEvent) => void, onError: (err: unknown) => void): WatchHandle {
    const watcher = this.client.watch().key(key).watcher();
    watcher.on('put', (kv) => onEvent({ type: 'put', kv: keyInfo(kv) }));
    watcher.on('delete', () => onEvent({ type: 'delete' }));
    // Without a listener an 'error' event would throw; the watch manager reconnects by itself.
    watcher.on('error', onError);
    watcher.on('disconnected', onError);
    return {
      close: async () => {
        await watcher.cancel().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
