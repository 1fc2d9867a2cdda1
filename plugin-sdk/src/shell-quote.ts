/**
 * Quotes one value for a POSIX shell: the result is always a single word whose
 * value is exactly `value`, whatever characters it holds.
 */
export function shellQuote(value: string | number): string {
  const text = String(value);
  if (text.includes('\0')) throw new TypeError('a shell argument cannot contain a NUL byte');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Quotes every element of an argument vector and joins them into one command line. */
export function shellJoin(argv: readonly (string | number)[]): string {
  if (argv.length === 0) throw new TypeError('an empty command cannot be run');
  return argv.map(shellQuote).join(' ');
}
