/** At most this many characters of a command's output go into `details`. */
export const OUTPUT_EXCERPT_CHARS = 1_000;

/** The trimmed output, cut to OUTPUT_EXCERPT_CHARS with a note of how much was left out. */
export function outputExcerpt(text: string): string {
  const trimmed = text.trim();
  if (trimmed.length <= OUTPUT_EXCERPT_CHARS) return trimmed;
  return `${trimmed.slice(0, OUTPUT_EXCERPT_CHARS)}… (${trimmed.length - OUTPUT_EXCERPT_CHARS} more characters)`;
}
