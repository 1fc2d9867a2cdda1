import { open } from 'node:fs/promises';

/** Bytes read per step when walking a file backwards. */
export const REVERSE_CHUNK_BYTES = 64 * 1024;

/** A line longer than this is skipped rather than buffered: it cannot be a sane log entry. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * Yields the lines of `file` newest first, reading fixed-size chunks from the
 * end so only as much of the file is read as the caller consumes. Lines are
 * split on bytes before decoding, so a multi-byte character cut by a chunk
 * boundary is never mangled. Empty lines and lines over `maxLineBytes` are
 * not yielded. Only the bytes present when reading starts are considered.
 */
export async function* readLinesBackward(
  file: string,
  chunkBytes: number = REVERSE_CHUNK_BYTES,
  maxLineBytes: number = MAX_LINE_BYTES,
): AsyncGenerator<string, void, undefined> {
  const handle = await open(file, 'r');
  try {
    let position = (await handle.stat()).size;
    // Pieces of the line currently being assembled, in file order.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let skippingLongLine = false;

    while (position > 0) {
      const start = Math.max(0, position - chunkBytes);
      const chunk = Buffer.allocUnsafe(position - start);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, start);
      if (bytesRead < chunk.length) throw new Error(`short read of ${file} at offset ${start}`);
      position = start;

      let end = chunk.length;
      for (let nl = chunk.lastIndexOf(NEWLINE, end - 1); nl >= 0; nl = nl === 0 ? -1 : chunk.lastIndexOf(NEWLINE, nl - 1)) {
        const tail = chunk.subarray(nl + 1, end);
        if (!skippingLongLine && tail.length + pendingBytes > 0) {
          yield Buffer.concat([tail, ...pending]).toString('utf8');
        }
        pending = [];
        pendingBytes = 0;
        skippingLongLine = false;
        end = nl;
      }

      if (!skippingLongLine && end > 0) {
        pending.unshift(chunk.subarray(0, end));
        pendingBytes += end;
        if (pendingBytes > maxLineBytes) {
          pending = [];
          pendingBytes = 0;
          skippingLongLine = true;
        }
      }
    }

    if (!skippingLongLine && pendingBytes > 0) yield Buffer.concat(pending).toString('utf8');
  } finally {
    await handle.close();
  }
}
