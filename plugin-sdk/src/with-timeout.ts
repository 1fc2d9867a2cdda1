import { TimeoutError } from './errors.js';

/**
 * Settles like `work`, or rejects with a TimeoutError carrying `message` once
 * `ms` have passed. The work is abandoned, not cancelled (a capability's call
 * cannot be aborted from a plugin); whatever it does later is ignored, a late
 * rejection included. Pass a function to have a synchronous throw turned into
 * a rejection like any other failure.
 */
export async function withTimeout<T>(work: Promise<T> | (() => Promise<T>), ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
  });
  try {
    return await Promise.race([typeof work === 'function' ? Promise.resolve().then(work) : work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
