// pino's numeric levels, for lines written by a logger configured without the
// label formatter (an older HandyRep or a hand-made pino).
const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

// Keys shown in the fixed part of the line, or noise for a reader.
const HEADER_KEYS = new Set(['time', 'level', 'msg', 'pid', 'hostname']);

/**
 * Renders one JSON log line as `YYYY-MM-DD HH:MM:SS LEVEL [tag] message {fields}`
 * (UTC); undefined when the line is not a log entry (garbage, a torn write).
 */
export function formatLogLine(line: string): string | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const record = entry as Record<string, unknown>;

  const time = formatTime(record.time);
  const level = formatLevel(record.level);
  if (time === undefined || level === undefined) return undefined;

  const tagKey = typeof record.plugin === 'string' ? 'plugin' : typeof record.component === 'string' ? 'component' : undefined;
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (!HEADER_KEYS.has(key) && key !== tagKey) fields[key] = value;
  }

  const parts = [time, level];
  if (tagKey !== undefined) parts.push(`[${String(record[tagKey])}]`);
  if (typeof record.msg === 'string' && record.msg.length > 0) parts.push(record.msg);
  if (Object.keys(fields).length > 0) parts.push(JSON.stringify(fields));
  return parts.join(' ');
}

function formatTime(time: unknown): string | undefined {
  if (typeof time !== 'number' && typeof time !== 'string') return undefined;
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

function formatLevel(level: unknown): string | undefined {
  if (typeof level === 'string' && level.length > 0) return level.toUpperCase();
  if (typeof level === 'number') return LEVEL_NAMES[level] ?? `LEVEL${level}`;
  return undefined;
}
