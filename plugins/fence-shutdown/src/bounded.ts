import { TimeoutError } from '@handyrep/plugin-sdk';

/**
 * Settles like `work`, or rejects with a TimeoutError after `ms`. The work is
 * abandoned, not cancelled: another plugin's call cannot be aborted from here,
 * and fencing must not wait on it longer than configured.
 */
export async function bounded<T>(work: () => Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} gave no answer within ${ms} ms`)), ms);
  });
  try {
    // Called inside the race so a synchronous throw becomes a rejection like any other failure.
    return await Promise.race([Promise.resolve().then(work), expired]);
  } finally {
    clearTimeout(timer);
  }
}
