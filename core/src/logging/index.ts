export { createLogger } from './create-logger.js';
export type { CoreLogger, CreateLoggerOptions, LogBindings, TaggedLogger } from './create-logger.js';
export { formatLogLine } from './log-format.js';
export { MAX_READ_LOG_LINES, readLog } from './log-reader.js';
export type { ReadLogOptions } from './log-reader.js';
export { DEFAULT_RING_CAPACITY, LogRing } from './log-ring.js';
export { createRedactor, isSecretKey, REDACTED, WELL_KNOWN_SECRET_PATHS } from './redact.js';
export type { Redactor } from './redact.js';
