/** Options for one remote or local command. */
export interface CommandOptions {
  /** Give up after this many milliseconds (default: the core's `ssh_timeout`). */
  timeoutMs?: number;
  /** Text written to the command's standard input. */
  input?: string;
}

/** What a finished command returned. A non-zero exit is a result, not an exception. */
export interface CommandResult {
  /** Exit status, or null when the command was ended by a signal. */
  exitCode: number | null;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
  /** Wall time in milliseconds. */
  durationMs: number;
}

/**
 * Runs commands on servers over SSH and on the HandyRep host. Connection
 * failures and time-outs throw (SSH_CONNECT, SSH_HOST_KEY, TIMEOUT); a command
 * that ran and failed returns its exit code.
 */
export interface RemoteShell {
  /** Runs an argument vector on `server`; every element is shell-quoted by the core. */
  run(server: string, argv: readonly string[], options?: CommandOptions): Promise<CommandResult>;
  /**
   * Runs a shell script on `server`. The caller must have quoted every
   * interpolated value with `shellQuote`.
   */
  runScript(server: string, script: string, options?: CommandOptions): Promise<CommandResult>;
  /** Writes `content` to `path` on `server` atomically (temp file + rename), with an octal `mode`. */
  writeFile(server: string, path: string, content: string, options?: CommandOptions & { mode?: number }): Promise<void>;
  /** Runs an argument vector on the HandyRep host itself, without a shell. */
  runLocal(argv: readonly string[], options?: CommandOptions): Promise<CommandResult>;
}
