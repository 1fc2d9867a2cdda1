/** What `withDeadline` saw: the work's value, or that time ran out first. */
export type DeadlineOutcome<T> = { finished: true; value: T } | { finished: false };

/**
 * Waits for `work` at most `ms` milliseconds. A rejection before the deadline
 * is passed on; after it, the work is left to finish on its own and its
 * outcome is dropped.
 */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<DeadlineOutcome<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // The work may still reject later; nobody is listening by then.
      work.catch(() => undefined);
      resolve({ finished: false });
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve({ finished: true, value });
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
