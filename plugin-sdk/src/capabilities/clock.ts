/** Time as the core sees it; fakes make plugin tests deterministic. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds (or earlier when `signal` aborts, rejecting). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
