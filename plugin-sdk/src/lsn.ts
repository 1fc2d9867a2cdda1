/** Parses a PostgreSQL WAL position (`pg_lsn` text such as `0/3000148`) into bytes from 0/0; null for null/empty. */
export function parseLsn(lsn: string | null | undefined): bigint | null {
  if (lsn === null || lsn === undefined || lsn === '') return null;
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!match) throw new TypeError(`not a WAL position: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

/** Formats bytes from 0/0 as PostgreSQL prints a WAL position. */
export function formatLsn(bytes: bigint): string {
  if (bytes < 0n) throw new RangeError('a WAL position cannot be negative');
  return `${(bytes >> 32n).toString(16).toUpperCase()}/${(bytes & 0xffffffffn).toString(16).toUpperCase()}`;
}
