/**
 * Read access to the `[passwords]` section. A value returned here must never
 * be logged, returned in a dictionary or written anywhere but where it is used.
 */
export interface Secrets {
  /** The password stored under `key`, or undefined when it is not configured. */
  get(key: string): string | undefined;
  /** The password stored under `key`; throws SECRET_MISSING naming the key when absent. */
  require(key: string): string;
}
