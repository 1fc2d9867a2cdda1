import type { LogFields, Logger } from '../capabilities/logger.js';

/** One captured log line. */
export interface CapturedLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields | undefined;
}

/** A logger that keeps every line in `lines`, for assertions. */
export class MemoryLogger implements Logger {
  /** Every line logged, oldest first. */
  readonly lines: CapturedLog[] = [];

  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'debug', message, fields });
  }

  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'info', message, fields });
  }

  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', message, fields });
  }

  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'error', message, fields });
  }

  /** Everything logged, as one text, for "never contains" checks. */
  text(): string {
    return this.lines.map((line) => `${line.message} ${JSON.stringify(line.fields ?? {})}`).join('\n');
  }
}
