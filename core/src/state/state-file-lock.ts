import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, realpathSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, HandyRepError, errorMessage } from '@handyrep/plugin-sdk';

/** What a process holding a state file's lock says it is: the daemon (with its web API once it listens) or a library process. */
export type LockHolderRole = { role: 'daemon'; url?: string } | { role: 'library'; command?: string };

/** The lock file's content: who holds the lock, so a refused process can name it. */
export type LockHolderRecord = LockHolderRole & {
  /** The holder's process ID. */
  pid: number;
  /** When it took the lock (ISO time). */
  started: string;
};

/** Refusal: another process (or another instance in this one) has the state file. */
export class StateLockedError extends HandyRepError {
  constructor(
    /** The server file that is managed by someone else. */
    readonly serverFile: string,
    /** Its lock file. */
    readonly lockFile: string,
    /** What the lock file says about the holder, when it could be read. */
    readonly holder: LockHolderRecord | undefined,
    message: string,
  ) {
    super(ErrorCodes.STATE_LOCKED, message);
  }
}

/**
 * The lock file of a server file: `<server_file>.lock` in the same directory
 * (resolved through symbolic links of the directory, so two spellings of one
 * directory share one lock).
 */
export function stateLockPath(serverFile: string): string {
  let dir = dirname(serverFile);
  try {
    dir = realpathSync(dir);
  } catch {
    // A missing directory: opening the lock file reports it.
  }
  return join(dir, `${basename(serverFile)}.lock`);
}

/** The role of a process that did not say what it is: a library process and its command line. */
export function defaultLockHolderRole(): LockHolderRole {
  return { role: 'library', command: [basename(process.argv0 || 'node'), ...process.argv.slice(1)].join(' ').slice(0, 500) };
}

const HELD_BY_OTHER = 1;

/** Locks `fd` with flock(1) from util-linux: the lock belongs to the open file description, so it stays after flock exits. */
function flockNonBlocking(fd: number, lockFile: string, serverFile: string): boolean {
  const result = spawnSync('flock', ['--exclusive', '--nonblock', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT'
      ? 'the flock command (util-linux) is not installed; HandyRep needs it so that only one process manages a state file'
      : `running flock failed: ${errorMessage(result.error)}`;
    throw new HandyRepError(ErrorCodes.STATE_FILE, `cannot lock ${lockFile} for ${serverFile}: ${why}`, { cause: result.error });
  }
  if (result.status === 0) return true;
  if (result.status === HELD_BY_OTHER) return false;
  const stderr = result.stderr?.toString().trim() ?? '';
  throw new HandyRepError(
    ErrorCodes.STATE_FILE,
    `cannot lock ${lockFile} for ${serverFile}: flock exited ${result.status === null ? `on ${String(result.signal)}` : String(result.status)}${stderr ? `: ${stderr}` : ''}`,
  );
}

function isRecord(value: unknown): value is LockHolderRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return Number.isSafeInteger(r['pid']) && (r['role'] === 'daemon' || r['role'] === 'library') && typeof r['started'] === 'string';
}

/** The holder recorded in the lock file, or undefined when it is empty or being written. */
function readRecord(fd: number): LockHolderRecord | undefined {
  try {
    const size = Math.min(fstatSync(fd).size, 64 * 1024);
    if (size === 0) return undefined;
    const buffer = Buffer.alloc(size);
    const read = readSync(fd, buffer, 0, size, 0);
    const value: unknown = JSON.parse(buffer.subarray(0, read).toString('utf8'));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The refusal message: who holds the state file and where to send actions instead. */
export function refusalMessage(serverFile: string, lockFile: string, holder: LockHolderRecord | undefined, requester: LockHolderRole): string {
  const parts: string[] = [];
  let advice: string;
  if (holder === undefined) {
    parts.push(`another HandyRep process (not named: ${lockFile} holds no record yet) manages ${serverFile}`);
    advice = 'send actions to the daemon if one runs: handyrep --url http(s)://host:port <function>';
  } else {
    const who = holder.pid === process.pid ? 'another HandyRep instance in this process' : 'another HandyRep process';
    if (holder.role === 'daemon') {
      const web = holder.url ? `web API at ${holder.url}` : 'starting, its web API not listening yet';
      parts.push(`${who} (daemon pid ${holder.pid}, ${web}) manages ${serverFile}`);
      advice = `send actions to it: handyrep --url ${holder.url ?? 'http(s)://host:port'} <function>`;
    } else {
      parts.push(`${who} (library pid ${holder.pid}${holder.command ? `: ${holder.command}` : ''}) manages ${serverFile}`);
      advice = 'try again when it has finished';
    }
  }
  if (requester.role === 'daemon') parts.push('a second daemon on the same state file does not start');
  parts.push(advice);
  const since = holder && !Number.isNaN(Date.parse(holder.started)) ? ` since ${holder.started}` : '';
  return `${parts.join('; ')} (lock ${lockFile} held${since})`;
}

/** One user of a StateFileLock (a runtime); releasing it twice is harmless. */
export interface StateLockLease {
  readonly lock: StateFileLock;
  release(): void;
}

/**
 * One process per state file: an exclusive flock(2) on `<server_file>.lock`,
 * held for the life of every HandyRep instance on that file, daemon or
 * library. The kernel drops it when the process dies, so a dead holder's lock
 * is taken over at once, with no check-then-delete. The file is never
 * deleted (deleting a locked file would let a second process lock a new one);
 * it holds the holder's PID, role and start time for the refusal message,
 * written by the holder only. The locked descriptor is read-only, so the
 * file system of the state can still be remounted read-only under a holder.
 *
 * A runtime holds a lease; reload_conf on the same server file adds a lease
 * to the same lock, and the file is unlocked when the last lease goes.
 */
export class StateFileLock {
  private fd: number | undefined;
  private leases = 0;
  private record: LockHolderRecord;

  private constructor(
    readonly serverFile: string,
    readonly path: string,
    fd: number,
    role: LockHolderRole,
  ) {
    this.fd = fd;
    this.record = { ...role, pid: process.pid, started: new Date().toISOString() };
    this.write();
  }

  /**
   * Takes the lock of `serverFile` for this process (its first lease), or throws
   * StateLockedError (HR_STATE_LOCKED) naming the holder. Takes it before
   * anything reads or writes the state; a refused caller writes nothing.
   */
  static async acquire(serverFile: string, role: LockHolderRole): Promise<StateLockLease> {
    const path = stateLockPath(serverFile);
    let fd: number;
    try {
      // Read-only: flock needs no write access, and a descriptor open for writing would keep the file
      // system from being remounted read-only. O_CLOEXEC is libuv's default: child processes (ssh,
      // pg_ctl, ...) never inherit the lock.
      fd = openSync(path, constants.O_RDONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw new HandyRepError(ErrorCodes.STATE_FILE, `cannot open the lock file ${path} of ${serverFile}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      if (flockNonBlocking(fd, path, serverFile)) return new StateFileLock(serverFile, path, fd, role).lease();
      // The holder writes its record right after locking; give a just-started one a moment.
      let holder = readRecord(fd);
      for (let attempt = 0; attempt < 20 && (holder === undefined || !processAlive(holder.pid)); attempt += 1) {
        await sleep(50);
        holder = readRecord(fd);
      }
      throw new StateLockedError(serverFile, path, holder, refusalMessage(serverFile, path, holder, role));
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Whether this process still holds the lock. */
  get held(): boolean {
    return this.fd !== undefined;
  }

  /** What the lock file says about this process. */
  holder(): LockHolderRecord {
    return { ...this.record };
  }

  /** The role recorded, e.g. to carry it to another lock on reload. */
  role(): LockHolderRole {
    const { pid: _pid, started: _started, ...role } = this.record;
    return role;
  }

  /** Records a new role (the daemon's web URL once it listens); the start time stays. */
  describe(role: LockHolderRole): void {
    this.record = { ...role, pid: this.record.pid, started: this.record.started };
    if (this.fd !== undefined) this.write();
  }

  /** A new user of the lock. */
  lease(): StateLockLease {
    if (this.fd === undefined) throw new Error(`the lock ${this.path} is released`);
    this.leases += 1;
    let released = false;
    return {
      lock: this,
      release: () => {
        if (released) return;
        released = true;
        this.leases -= 1;
        if (this.leases === 0) this.close();
      },
    };
  }

  /** Writes the record through a short-lived descriptor (only the holder writes; flock belongs to the locked descriptor). */
  private write(): void {
    if (this.fd === undefined) return;
    let fd: number | undefined;
    try {
      fd = openSync(this.path, constants.O_WRONLY | constants.O_NOFOLLOW);
      ftruncateSync(fd, 0);
      writeSync(fd, `${JSON.stringify(this.record)}\n`, 0, 'utf8');
    } catch {
      // The lock holds without the record; a refused process then says it cannot name the holder.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  private close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    // Closing the only descriptor of the open file description drops the flock.
    closeSync(fd);
  }
}
