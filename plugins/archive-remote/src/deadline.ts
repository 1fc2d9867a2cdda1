import { TimeoutError } from '@handyrep/plugin-sdk';

/**
 * Settles with `work`, or rejects with a TimeoutError after `ms`. The SQL
 * client has its own time-outs; this backstop keeps poll bounded whatever
 * client the core hands over.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} got no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
