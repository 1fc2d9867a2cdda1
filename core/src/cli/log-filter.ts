import { Writable } from 'node:stream';

const SHOWN_BY_DEFAULT = new Set(['warn', 'error', 'fatal']);

/** One JSON log line as a short human line, or undefined when it is below the shown level. */
export function formatLogLine(line: string, showAll: boolean): string | undefined {
  if (line.trim() === '') return undefined;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  const { level, msg } = entry as { level?: unknown; msg?: unknown };
  const label = typeof level === 'string' ? level : String(level ?? 'log');
  if (!showAll && !SHOWN_BY_DEFAULT.has(label)) return undefined;
  return `handyrep: ${label}: ${typeof msg === 'string' ? msg : line}`;
}

/**
 * Where library mode sends HandyRep's log when [handyrep] log_file is empty:
 * stderr (stdout is the command's answer), warnings and errors only unless
 * --show-log, one readable line per entry.
 */
export function stderrLogFilter(showAll: boolean, target: NodeJS.WritableStream = process.stderr): Writable {
  let pending = '';
  return new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, callback) {
      pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const shown = formatLogLine(line, showAll);
        if (shown !== undefined) target.write(`${shown}\n`);
      }
      callback();
    },
    final(callback) {
      const shown = formatLogLine(pending, showAll);
      if (shown !== undefined) target.write(`${shown}\n`);
      pending = '';
      callback();
    },
  });
}
