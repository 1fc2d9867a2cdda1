import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ErrorCodes, HandyRepError, errorMessage } from '@handyrep/plugin-sdk';
import type { ClusterStatusName, ServerStatusName, StatusFields } from '@handyrep/plugin-sdk';
import { SERVER_NAME_PATTERN, STATUS_KEYS } from '../config/core-schema.js';
import { isClusterStatusFields } from '../status/cluster-status.js';
import { isServerStatusFields } from '../status/server-status.js';

/** One server in the state file: its explicit definition keys and its last status. */
export interface SavedServer {
  /** Keys set in the config at first start or through the API; never status keys, never passwords. */
  definition: Record<string, unknown>;
  /** The server's status fields when the state was written. */
  status: StatusFields<ServerStatusName>;
}

/** The state file (`servers.save`, JSON). */
export interface SavedState {
  /** Format version of this layout. */
  format: 1;
  /** Increases by one on every write, so the newer of two copies can be told apart. */
  generation: number;
  /** ISO time of the write. */
  updated_at: string;
  /** Servers by name, in definition order. */
  servers: Record<string, SavedServer>;
  /** The cluster status fields when the state was written. */
  cluster: StatusFields<ClusterStatusName>;
  /** Room for later features (pause flag, failover journal); kept as read. */
  extra: Record<string, unknown>;
}

/** Files created with this mode: the state holds hostnames and topology, which only HandyRep needs to read. */
export const STATE_FILE_MODE = 0o600;

const SERVER_NAME = new RegExp(SERVER_NAME_PATTERN);
const FORBIDDEN_DEFINITION_KEYS: readonly string[] = [...STATUS_KEYS, 'name'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every way `value` differs from the SavedState layout, as `where: what` phrases; empty when it fits. */
export function savedStateProblems(value: unknown): string[] {
  if (!isPlainObject(value)) return ['the top level is not a JSON object'];
  const problems: string[] = [];
  if (value.format !== 1) problems.push(`format: expected 1, found ${JSON.stringify(value.format)}`);
  if (!Number.isSafeInteger(value.generation) || (value.generation as number) < 0) {
    problems.push('generation: expected a non-negative integer');
  }
  if (typeof value.updated_at !== 'string') problems.push('updated_at: expected a string');
  if (!isClusterStatusFields(value.cluster)) problems.push('cluster: expected cluster status fields');
  if (!isPlainObject(value.extra)) problems.push('extra: expected an object');
  if (!isPlainObject(value.servers)) {
    problems.push('servers: expected an object');
    return problems;
  }
  for (const [name, server] of Object.entries(value.servers)) {
    const where = `servers.${name}`;
    if (!SERVER_NAME.test(name)) problems.push(`${where}: server name does not match ${SERVER_NAME_PATTERN}`);
    if (!isPlainObject(server)) {
      problems.push(`${where}: expected an object`);
      continue;
    }
    if (!isPlainObject(server.definition)) problems.push(`${where}.definition: expected an object`);
    else {
      const forbidden = Object.keys(server.definition).filter((k) => FORBIDDEN_DEFINITION_KEYS.includes(k));
      if (forbidden.length > 0) problems.push(`${where}.definition: must not hold ${forbidden.join(', ')}`);
    }
    if (!isServerStatusFields(server.status)) problems.push(`${where}.status: expected server status fields`);
  }
  return problems;
}

/**
 * Reads the state file. Undefined when it does not exist; a file that is not
 * JSON or not the SavedState layout is an error (HR_STATE_FILE) naming the
 * file, because silently starting from the config would lose API changes.
 */
export async function readStateFile(path: string): Promise<SavedState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HandyRepError(ErrorCodes.STATE_FILE, `cannot read state file ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return parseStateText(path, text);
}

/** Parses and checks the text of a state file; `path` only names the file in errors. */
export function parseStateText(path: string, text: string): SavedState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HandyRepError(ErrorCodes.STATE_FILE, `state file ${path} is not valid JSON: ${errorMessage(err)}`, { cause: err });
  }
  const problems = savedStateProblems(value);
  if (problems.length > 0) {
    throw new HandyRepError(ErrorCodes.STATE_FILE, `state file ${path} is not a HandyRep state: ${problems.join('; ')}`);
  }
  return value as SavedState;
}

/** The file text of a state; refuses a state that would not read back. */
function serialize(path: string, state: SavedState): string {
  const problems = savedStateProblems(state);
  if (problems.length > 0) {
    throw new HandyRepError(ErrorCodes.STATE_FILE, `refusing to write an invalid state to ${path}: ${problems.join('; ')}`);
  }
  return `${JSON.stringify(state, null, 2)}\n`;
}

const TEMP_SUFFIX = '.tmp';

/** A temp name next to the target; the pid lets a later start tell a dead writer's leftovers from a live one's. */
function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

function writeError(path: string, err: unknown): HandyRepError {
  if (err instanceof HandyRepError) return err;
  return new HandyRepError(ErrorCodes.STATE_FILE, `cannot write state file ${path}: ${errorMessage(err)}`, { cause: err });
}

/**
 * Writes the state so that a crash at any moment leaves either the old or the
 * new file, never a torn one: write a temp file in the same directory, fsync
 * it, rename it over the target (atomic on POSIX), then fsync the directory so
 * the rename itself survives a power loss.
 */
export async function writeStateFileAtomic(path: string, state: SavedState): Promise<void> {
  const text = serialize(path, state);
  const temp = tempPath(path);
  try {
    const file = await open(temp, 'wx', STATE_FILE_MODE);
    try {
      await file.chmod(STATE_FILE_MODE);
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw writeError(path, err);
  }
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    throw writeError(path, err);
  }
}

/** Same as writeStateFileAtomic, blocking: for exit paths where the event loop will not run again. */
export function writeStateFileAtomicSync(path: string, state: SavedState): void {
  const text = serialize(path, state);
  const temp = tempPath(path);
  try {
    const fd = openSync(temp, 'wx', STATE_FILE_MODE);
    try {
      const bytes = Buffer.from(text, 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // The temp file was never created or is already gone.
    }
    throw writeError(path, err);
  }
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch (err) {
    throw writeError(path, err);
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files that writers of `path` left behind when they were killed
 * mid-write; temp files of a writer that is still running are left alone.
 * Returns the removed paths.
 */
export async function removeStaleTempFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw err;
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith(TEMP_SUFFIX)) continue;
    const match = /^(\d+)\.[0-9a-f]+$/.exec(entry.slice(prefix.length, -TEMP_SUFFIX.length));
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processIsAlive(pid)) continue;
    const full = join(dir, entry);
    await unlink(full).catch(() => undefined);
    removed.push(full);
  }
  return removed;
}
