/** Structured fields attached to a log line. Never put a password here. */
export type LogFields = Record<string, unknown>;

/** The logger handed to plugins; lines are tagged with the plugin's name by the core. */
export interface Logger {
  /** Detail useful only when verbose logging is on. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation worth recording. */
  info(message: string, fields?: LogFields): void;
  /** Something is wrong but HandyRep carries on. */
  warn(message: string, fields?: LogFields): void;
  /** An operation failed. */
  error(message: string, fields?: LogFields): void;
}
