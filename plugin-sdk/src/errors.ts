/**
 * Stable error codes. A code, once published, keeps its meaning and is never
 * reused for something else; docs/errors.md lists them.
 */
export const ErrorCodes = {
  CONFIG_FILE_MISSING: 'HR_CONFIG_FILE_MISSING',
  CONFIG_MALFORMED: 'HR_CONFIG_MALFORMED',
  CONFIG_INVALID: 'HR_CONFIG_INVALID',
  PLUGIN_NOT_FOUND: 'HR_PLUGIN_NOT_FOUND',
  PLUGIN_IMPORT_FAILED: 'HR_PLUGIN_IMPORT_FAILED',
  PLUGIN_NO_EXPORT: 'HR_PLUGIN_NO_EXPORT',
  PLUGIN_WRONG_KIND: 'HR_PLUGIN_WRONG_KIND',
  PLUGIN_API_VERSION: 'HR_PLUGIN_API_VERSION',
  PLUGIN_FACTORY_FAILED: 'HR_PLUGIN_FACTORY_FAILED',
  PLUGIN_CONFIG_INVALID: 'HR_PLUGIN_CONFIG_INVALID',
  PLUGIN_SCHEMA_INVALID: 'HR_PLUGIN_SCHEMA_INVALID',
  UNKNOWN_SERVER: 'HR_UNKNOWN_SERVER',
  BAD_ARGUMENT: 'HR_BAD_ARGUMENT',
  TIMEOUT: 'HR_TIMEOUT',
  SSH_CONNECT: 'HR_SSH_CONNECT',
  SSH_HOST_KEY: 'HR_SSH_HOST_KEY',
  REMOTE_COMMAND: 'HR_REMOTE_COMMAND',
  SQL: 'HR_SQL',
  SECRET_MISSING: 'HR_SECRET_MISSING',
  ACTION_IN_PROGRESS: 'HR_ACTION_IN_PROGRESS',
  NOT_ACTING: 'HR_NOT_ACTING',
  STATE_FILE: 'HR_STATE_FILE',
  NOT_SUPPORTED: 'HR_NOT_SUPPORTED',
  STATE_LOCKED: 'HR_STATE_LOCKED',
  PG_TLS: 'HR_PG_TLS',
  CONFIG_PERMISSIONS: 'HR_CONFIG_PERMISSIONS',
} as const;

/** One of the stable error codes. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error HandyRep throws on purpose: a stable `code`, a message, an optional `cause`. */
export class HandyRepError extends Error {
  /** The stable code; match on this, never on the message. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem found in a configuration file, located by section and key. */
export interface ConfigProblem {
  /** INI section, e.g. `failover` or `servers.db1`. */
  section: string;
  /** Key inside the section; empty when the whole section is at fault. */
  key: string;
  /** What was expected, in words. */
  message: string;
  /** The coded error behind the problem, when there is one (e.g. a plugin that failed to load). */
  code?: ErrorCode;
}

/** A configuration file that cannot be used; `problems` lists every issue found at once. */
export class ConfigError extends HandyRepError {
  /** Every problem found, in file order where known. */
  readonly problems: readonly ConfigProblem[];
  /** The file at fault, when there is one. */
  readonly file: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    problems: readonly ConfigProblem[],
    file?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.problems = problems;
    this.file = file;
  }
}

/** A plugin that could not be resolved, loaded or created. */
export class PluginLoadError extends HandyRepError {
  /** The plugin name as written in the configuration. */
  readonly pluginName: string;
  /** The package or path that was looked for. */
  readonly lookedFor: string;

  constructor(
    code: ErrorCode,
    pluginName: string,
    lookedFor: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.pluginName = pluginName;
    this.lookedFor = lookedFor;
  }
}

/** A remote call (SSH, SQL, local command) that did not answer in time. */
export class TimeoutError extends HandyRepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.TIMEOUT, message, options);
  }
}

/** An operation named a server the registry does not know. */
export class UnknownServerError extends HandyRepError {
  /** The name that was asked for. */
  readonly serverName: string;

  constructor(serverName: string) {
    super(ErrorCodes.UNKNOWN_SERVER, `unknown server '${serverName}'`);
    this.serverName = serverName;
  }
}

/** An argument that is missing, of the wrong type or outside what is allowed. */
export class BadArgumentError extends HandyRepError {
  constructor(message: string) {
    super(ErrorCodes.BAD_ARGUMENT, message);
  }
}

/** True when `err` is a HandyRepError carrying `code` (works across package copies). */
export function hasErrorCode(err: unknown, code: ErrorCode): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** A message for any thrown value, for return dictionaries and logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
