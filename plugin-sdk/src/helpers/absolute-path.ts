import { posix } from 'node:path';
import { BadArgumentError } from '../errors.js';

// A newline would break one-path-per-line output (cleanup listings, script messages).
const UNUSABLE = /[\n\r\0]/;

/** An absolute, single-line, normalised path from a setting; throws BadArgumentError naming the setting (`what`) otherwise. */
export function absolutePath(what: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new BadArgumentError(`${what} must be set to an absolute path`);
  if (!posix.isAbsolute(value)) throw new BadArgumentError(`${what} must be an absolute path, got ${JSON.stringify(value)}`);
  if (UNUSABLE.test(value)) throw new BadArgumentError(`${what} must not contain a newline or NUL, got ${JSON.stringify(value)}`);
  return posix.normalize(value);
}
