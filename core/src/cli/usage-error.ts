/** A mistake on the command line (arguments, options, mode): reported on stderr, exit 2, nothing called. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
