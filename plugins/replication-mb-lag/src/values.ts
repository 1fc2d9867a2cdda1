/** Bytes in one MB, as HandyRep's lag limits count them (MiB, like PostgreSQL's size units). */
export const BYTES_PER_MB = 1024 * 1024;

/** A numeric column as a number; the pg driver returns numeric and bigint as text. Null when absent or not a number. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const number = typeof value === 'number' ? value : Number(typeof value === 'bigint' ? value.toString() : String(value));
  return Number.isFinite(number) ? number : null;
}

/** A text column as a string, or null. */
export function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return String(value);
}

/** Bytes as MB, rounded to 1 KB (3 decimals) so return dictionaries stay readable. */
export function bytesToMb(bytes: number): number {
  return Math.round((bytes / BYTES_PER_MB) * 1000) / 1000;
}
