import { BadArgumentError } from '@handyrep/plugin-sdk';
import { formatLogLine } from './log-format.js';
import type { LogRing } from './log-ring.js';
import { readLinesBackward } from './reverse-lines.js';

/** The most entries one read_log call may ask for. */
export const MAX_READ_LOG_LINES = 10_000;

/** Where read_log looks: the log file when there is one, else the in-memory ring. */
export interface ReadLogOptions {
  /** Absolute path of the log file; empty or undefined when logging goes to stdout. */
  logFile?: string;
  /** How many entries to return, 1..MAX_READ_LOG_LINES. */
  numlines: number;
  /** The logger's ring, read when there is no log file. */
  memory?: LogRing;
}

/**
 * The last `numlines` log entries, newest first, as human-readable lines.
 * Lines that are not log entries (a torn write, foreign text) are skipped and
 * do not count. A missing log file means nothing was logged yet: no entries.
 */
export async function readLog(options: ReadLogOptions): Promise<string[]> {
  const { numlines } = options;
  if (typeof numlines !== 'number' || !Number.isInteger(numlines) || numlines < 1 || numlines > MAX_READ_LOG_LINES) {
    throw new BadArgumentError(`numlines must be an integer from 1 to ${MAX_READ_LOG_LINES}, got ${String(numlines)}`);
  }

  if (options.logFile) return readFromFile(options.logFile, numlines);
  if (options.memory) return collect(options.memory.newest(options.memory.size), numlines);
  return [];
}

async function readFromFile(file: string, numlines: number): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const line of readLinesBackward(file)) {
      const formatted = formatLogLine(line);
      if (formatted === undefined) continue;
      out.push(formatted);
      if (out.length >= numlines) break;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return out;
}

function collect(lines: Iterable<string>, numlines: number): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const formatted = formatLogLine(line);
    if (formatted === undefined) continue;
    out.push(formatted);
    if (out.length >= numlines) break;
  }
  return out;
}
