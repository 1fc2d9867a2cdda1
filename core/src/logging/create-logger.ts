import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { BadArgumentError, type LogFields, type Logger } from '@handyrep/plugin-sdk';
import { pino, type DestinationStream, type LogFn, type Logger as PinoLogger } from 'pino';
import { LogRing } from './log-ring.js';
import { createRedactor, REDACTED, WELL_KNOWN_SECRET_PATHS, type Redactor } from './redact.js';

/** Tags a child logger adds to each of its lines. */
export interface LogBindings {
  /** Plugin name, e.g. `poll_isready`; shown as `[tag]` by read_log. */
  plugin?: string;
  /** Server the lines are about. */
  server?: string;
  /** Core component, e.g. `failover`; the `[tag]` when there is no plugin. */
  component?: string;
}

/** An SDK logger that can hand out children tagged with more bindings. */
export interface TaggedLogger extends Logger {
  /** A logger whose lines carry `bindings`; it shares level, redaction and destination with its parent. */
  child(bindings: LogBindings): TaggedLogger;
}

/** The core's root logger: SDK logger plus run-time verbosity and lifecycle. */
export interface CoreLogger extends TaggedLogger {
  /** Switches between debug and info at run time, for this logger and every child already handed out. */
  setVerbose(verbose: boolean): void;
  /** True when debug lines are written. */
  isVerbose(): boolean;
  /** The in-memory copy of recent lines, for read_log when there is no log file. */
  readonly ring: LogRing;
  /** The log file written, or undefined when logging goes to stdout/`destination`. */
  readonly logFile: string | undefined;
  /** Pushes out anything buffered (writes are synchronous, so this is a safeguard). */
  flush(): void;
  /** Flushes and closes the log file; lines logged afterwards, by any child too, are dropped. */
  close(): void;
}

/** Somewhere log lines can be written (a stream such as `process.stderr`); typed without Node's types so the published declarations need none. */
export interface LogDestination {
  /** Writes one serialised line. */
  write(line: string): unknown;
}

/** How to build the core logger. */
export interface CreateLoggerOptions {
  /** Absolute path of the log file, appended to; empty or undefined logs to stdout. */
  logFile?: string;
  /** Start with debug lines enabled. */
  verbose: boolean;
  /** Current password values, read at each log call so a reloaded configuration is honoured. */
  secrets: () => Iterable<string>;
  /** Where lines go instead of stdout when there is no log file (tests). Never closed by the logger. */
  destination?: LogDestination;
  /** Ring to feed; pass the previous logger's ring on reload to keep history. A new one otherwise. */
  ring?: LogRing;
}

// Keys pino writes itself; a field with the same name would produce a
// duplicate key and, with JSON.parse's last-wins, corrupt the entry.
const RESERVED_KEYS = new Set(['time', 'level', 'msg', 'pid']);

/** Creates the core logger: JSON lines, redacted, to a file (synchronously) or stdout, and to the ring. */
export function createLogger(options: CreateLoggerOptions): CoreLogger {
  const logFile = options.logFile ? options.logFile : undefined;
  if (logFile !== undefined && !isAbsolute(logFile)) {
    throw new BadArgumentError(`log file must be an absolute path, got '${logFile}'`);
  }
  const ring = options.ring ?? new LogRing();
  const redactors = new RedactorCache(options.secrets);

  let owned: ReturnType<typeof pino.destination> | undefined;
  let main: DestinationStream;
  if (logFile !== undefined) {
    terminateTornLine(logFile);
    owned = pino.destination({ dest: logFile, sync: true, mkdir: true, append: true });
    reportWriteErrors(owned, logFile);
    main = owned;
  } else if (options.destination !== undefined) {
    main = options.destination;
  } else {
    owned = pino.destination({ dest: 1, sync: true });
    reportWriteErrors(owned, 'stdout');
    main = owned;
  }
  // 'trace' on both sinks: the logger's own level is the only filter.
  const sinks = pino.multistream([
    { level: 'trace', stream: ring },
    { level: 'trace', stream: main },
  ]);

  const root = pino(
    {
      level: options.verbose ? 'debug' : 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Errors are already turned into plain, redacted objects by the
      // logMethod hook; pino's default `err` serializer would serialise the
      // copy again and label it `Object`.
      serializers: { err: (value: unknown) => value },
      redact: { paths: [...WELL_KNOWN_SECRET_PATHS], censor: REDACTED },
      hooks: {
        logMethod(args, method) {
          const redactor = redactors.current();
          const redacted = (args as unknown[]).map((arg) =>
            typeof arg === 'string' ? redactor.redactText(arg) : renameReserved(redactor.redactValue(arg)),
          );
          method.apply(this, redacted as Parameters<LogFn>);
        },
        // Last line of defence: a secret value that reached the serialised
        // line by a path the structured pass does not see (a field name).
        streamWrite: (line) => redactors.current().redactSerialized(line),
      },
    },
    sinks,
  );

  return new RootLogger(root, redactors, ring, logFile, options.verbose, owned, logFile !== undefined);
}

// Re-reads secrets on every call but rebuilds the regular expressions only
// when the set of values changes.
class RedactorCache {
  private key: string | undefined;
  private redactor: Redactor = createRedactor([]);

  constructor(private readonly secrets: () => Iterable<string>) {}

  current(): Redactor {
    let values: string[];
    try {
      values = [...this.secrets()];
    } catch {
      // A configuration in mid-reload must not make logging throw; the
      // pattern-based masks still apply.
      values = [];
    }
    const key = values.join('\u0000');
    if (key !== this.key) {
      this.key = key;
      this.redactor = createRedactor(values);
    }
    return this.redactor;
  }
}

class PinoTaggedLogger implements TaggedLogger {
  constructor(
    protected readonly target: PinoLogger,
    protected readonly family: LoggerFamily,
  ) {}

  debug(message: string, fields?: LogFields): void {
    this.target.debug(fields ?? {}, String(message));
  }

  info(message: string, fields?: LogFields): void {
    this.target.info(fields ?? {}, String(message));
  }

  warn(message: string, fields?: LogFields): void {
    this.target.warn(fields ?? {}, String(message));
  }

  error(message: string, fields?: LogFields): void {
    this.target.error(fields ?? {}, String(message));
  }

  child(bindings: LogBindings): TaggedLogger {
    return new PinoTaggedLogger(this.family.spawn(this.target, bindings), this.family);
  }
}

// pino gives each child its own level once set, so a level change must be
// applied to every child still alive; weak references let children that
// callers dropped be collected.
class LoggerFamily {
  private readonly members = new Set<WeakRef<PinoLogger>>();
  private readonly finalizer = new FinalizationRegistry<WeakRef<PinoLogger>>((ref) => this.members.delete(ref));
  level: string;

  constructor(
    root: PinoLogger,
    level: string,
    private readonly redactors: RedactorCache,
  ) {
    this.level = level;
    this.track(root);
  }

  spawn(parent: PinoLogger, bindings: LogBindings): PinoLogger {
    const redactor = this.redactors.current();
    const clean: Record<string, string> = {};
    for (const key of ['plugin', 'server', 'component'] as const) {
      const value = bindings[key];
      if (value !== undefined && value !== null) clean[key] = redactor.redactText(String(value));
    }
    const child = parent.child(clean);
    child.level = this.level;
    this.track(child);
    return child;
  }

  setLevel(level: string): void {
    this.level = level;
    for (const ref of this.members) {
      const member = ref.deref();
      if (member !== undefined) member.level = level;
    }
  }

  private track(member: PinoLogger): void {
    const ref = new WeakRef(member);
    this.members.add(ref);
    this.finalizer.register(member, ref);
  }
}

class RootLogger extends PinoTaggedLogger implements CoreLogger {
  private verbose: boolean;
  private closed = false;

  constructor(
    root: PinoLogger,
    redactors: RedactorCache,
    readonly ring: LogRing,
    readonly logFile: string | undefined,
    verbose: boolean,
    private readonly owned: ReturnType<typeof pino.destination> | undefined,
    private readonly ownsFile: boolean,
  ) {
    super(root, new LoggerFamily(root, verbose ? 'debug' : 'info', redactors));
    this.verbose = verbose;
  }

  setVerbose(verbose: boolean): void {
    this.verbose = verbose;
    if (!this.closed) this.family.setLevel(verbose ? 'debug' : 'info');
  }

  isVerbose(): boolean {
    return this.verbose;
  }

  flush(): void {
    if (!this.closed) this.owned?.flushSync();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.family.setLevel('silent');
    // stdout is shared with the rest of the process: flushed, never closed.
    if (this.ownsFile) this.owned?.end();
  }
}

function renameReserved(fields: unknown): unknown {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return fields;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[RESERVED_KEYS.has(key) ? `_${key}` : key] = value;
  }
  return out;
}

// A process killed mid-write can leave a line without its newline; the first
// line of the next process would be glued to it and both lost to the reader.
function terminateTornLine(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
  // Created here, before pino opens it: a new log file is the owner's only (it names servers, users and failures).
  const fd = openSync(file, 'a+', 0o600);
  try {
    const { size } = fstatSync(fd);
    if (size === 0) return;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) writeSync(fd, '\n');
  } finally {
    closeSync(fd);
  }
}

// An unhandled 'error' event would crash the daemon; a full disk must not.
function reportWriteErrors(stream: ReturnType<typeof pino.destination>, where: string): void {
  let reported = false;
  stream.on('error', (err: Error) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`handyrep: cannot write log to ${where}: ${err.message}\n`);
  });
}
