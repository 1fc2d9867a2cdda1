import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Fixed-length keyed digests of secrets, so comparisons take the same time
 * whatever the lengths and contents: `timingSafeEqual` alone would throw on
 * (and so reveal) a length difference.
 */
export class SecretDigester {
  // A per-process key: the digests kept in memory are useless anywhere else.
  private readonly key = randomBytes(32);

  /** The digest of `value`. */
  digest(value: string): Buffer {
    return createHmac('sha256', this.key).update(value, 'utf8').digest();
  }

  /** True when both digests are equal; constant time. */
  static same(a: Buffer, b: Buffer): boolean {
    return timingSafeEqual(a, b);
  }
}
