/**
 * The few etcd operations the election needs, behind one small interface so
 * the election logic is tested against a fake and runs against etcd3.
 * Every call takes its own deadline and rejects when it passes.
 */

/** A key as etcd holds it. */
export interface KeyInfo {
  value: string;
  /** The lease the key is attached to ('0' for none). */
  lease: string;
  modRevision: string;
}

/** The outcome of createIfAbsent: created, or the key as it already was. */
export type CreateOutcome = { created: true } | { created: false; current: KeyInfo | undefined };

/** What a watch reports about its key. */
export type WatchEvent = { type: 'put'; kv: KeyInfo } | { type: 'delete' };

/** A running watch. */
export interface WatchHandle {
  close(): Promise<void>;
}

export interface EtcdStore {
  /** Grants a lease; resolves with its ID and the TTL etcd granted (seconds). */
  grantLease(ttlSeconds: number, timeoutMs: number): Promise<{ id: string; ttlSeconds: number }>;
  /** Renews the lease once; resolves with its remaining TTL in seconds, 0 (or less) when etcd no longer knows it. */
  keepAlive(lease: string, timeoutMs: number): Promise<number>;
  /** Revokes the lease (its keys are deleted). */
  revokeLease(lease: string, timeoutMs: number): Promise<void>;
  /** In one transaction: creates `key = value` attached to `lease` when the key is absent; otherwise reads it. */
  createIfAbsent(key: string, value: string, lease: string, timeoutMs: number): Promise<CreateOutcome>;
  /** Reads a key; undefined when absent. */
  get(key: string, timeoutMs: number): Promise<KeyInfo | undefined>;
  /**
   * In one transaction: puts `key = value` only when `guard.key` holds
   * `guard.value` attached to `guard.lease`; true when written.
   */
  putIfHeld(guard: { key: string; value: string; lease: string }, key: string, value: string, timeoutMs: number): Promise<boolean>;
  /** Watches one key; the watch reconnects by itself. `onError` hears problems that do not end it. */
  watch(key: string, onEvent: (event: WatchEvent) => void, onError: (err: unknown) => void): WatchHandle;
  /** Closes connections. */
  close(): Promise<void>;
}
