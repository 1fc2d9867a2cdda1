// Address slots: every cluster claims a slot n (atomic mkdir) and uses only
// loopback addresses 127.77.<n>.x, so test files running at the same time
// never collide. A slot whose owner process is dead is reclaimed, after what
// its owner left behind (processes, iptables rules, base directory) is removed.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { isAbsolute, join, resolve } from 'node:path';
import { removeContainersSync } from './docker.js';
import { cmdline, cwdOf, descendants, isAlive, listProcesses, readStat, run, signal, waitGone } from './proc.js';

export const HARNESS_ROOT = process.env.HANDYREP_HARNESS_ROOT ?? '/tmp/handyrep-harness';
export const SLOT_COUNT = 200;
export const ADDRESS_PREFIX = '127.77';

export interface SlotOwner {
  pid: number;
  startTime: number;
  baseDir: string;
}

export interface Slot {
  /** Slot number (0 for a fixed layout). */
  n: number;
  dir: string;
  baseDir: string;
  /** First three octets of every address of this slot: `127.77.<n>`, or a fixed layout's prefix. */
  addressPrefix: string;
  /** `<addressPrefix>.<i>` */
  address(i: number): string;
  release(): void;
}

/** A fixed layout instead of a numbered slot (the sandbox): known addresses and base directory, one user at a time. */
export interface FixedLayout {
  /** Three octets of a loopback address, e.g. `127.0.10` (hosts get `.1`, `.2`, ...); not in the slots' 127.77 range. */
  addressPrefix: string;
  /** Absolute base directory (created; must not exist unless a dead owner of this layout left it). */
  baseDir: string;
}

/** Marks a base directory made for a fixed layout, so a later claim may remove a dead owner's leftovers. */
const FIXED_MARKER = '.handyrep-harness';

/**
 * Removes a cluster's base directory. A test that made a file immutable
 * (chattr +i, to make pg_rewind and a reclone fail) and was killed before
 * undoing it leaves a file root cannot delete: clear the flag and retry.
 */
export function removeBaseDir(baseDir: string): void {
  try {
    rmSync(baseDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch {
    spawnSync('chattr', ['-R', '-i', baseDir], { stdio: 'ignore', timeout: 30_000 });
    rmSync(baseDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

function ensureRoot(): string {
  const slots = join(HARNESS_ROOT, 'slots');
  mkdirSync(slots, { recursive: true });
  // The postgres user must traverse the root to reach cluster files.
  chmodSync(HARNESS_ROOT, 0o755);
  return slots;
}

function readOwner(dir: string): SlotOwner | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as SlotOwner;
  } catch {
    return null;
  }
}

function ownerAlive(owner: SlotOwner): boolean {
  const st = readStat(owner.pid);
  return st !== null && st.state !== 'Z' && st.startTime === owner.startTime;
}

/** Processes belonging to a cluster directory: cmdline or cwd inside it, their descendants, postmasters named by postmaster.pid files. */
export function findProcessesUnder(baseDir: string): number[] {
  const all = listProcesses();
  const victims = new Set<number>();
  for (const p of all) {
    if (p.pid === process.pid || p.state === 'Z') continue;
    const cwd = cwdOf(p.pid);
    if (cmdline(p.pid).includes(baseDir) || (cwd !== null && (cwd === baseDir || cwd.startsWith(`${baseDir}/`)))) {
      victims.add(p.pid);
      for (const d of descendants(p.pid, all)) victims.add(d.pid);
    }
  }
  try {
    for (const host of readdirSync(baseDir)) {
      try {
        const pid = Number(readFileSync(join(baseDir, host, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0 && readStat(pid)?.comm === 'postgres') {
          victims.add(pid);
          for (const d of descendants(pid, all)) victims.add(d.pid);
        }
      } catch {
        /* no pid file */
      }
    }
  } catch {
    /* no base dir */
  }
  victims.delete(process.pid);
  return [...victims].filter(isAlive);
}

/** SIGKILLs (after SIGCONT) everything findProcessesUnder finds; returns the pids. */
export async function killProcessesUnder(baseDir: string): Promise<number[]> {
  const list = findProcessesUnder(baseDir);
  for (const pid of list) {
    signal(pid, 'SIGKILL');
    signal(pid, 'SIGCONT');
  }
  await waitGone(list, 5_000);
  return list;
}

/** Deletes every iptables rule that mentions an address of slot n. */
export function removeSlotRules(n: number): Promise<string[]> {
  return removeAddressRules(`${ADDRESS_PREFIX}.${n}`);
}

/** Deletes every iptables rule that mentions an address `<prefix>.x` (prefix: three octets). */
export async function removeAddressRules(prefix: string): Promise<string[]> {
  const removed: string[] = [];
  const needle = `${prefix}.`;
  let listing: string;
  try {
    listing = (await run('iptables', ['-w', '5', '-S'], { timeoutMs: 15_000 })).stdout;
  } catch {
    return removed;
  }
  for (const line of listing.split('\n')) {
    if (!line.startsWith('-A ') || !line.includes(needle)) continue;
    const args = line.trim().split(/\s+/);
    args[0] = '-D';
    const r = await run('iptables', ['-w', '5', ...args], { check: false, timeoutMs: 15_000 });
    if (r.code === 0) removed.push(line);
  }
  return removed;
}

async function cleanupStale(addressPrefix: string, owner: SlotOwner | null): Promise<void> {
  if (owner?.baseDir) {
    removeContainersSync(owner.baseDir);
    await killProcessesUnder(owner.baseDir);
    removeBaseDir(owner.baseDir);
  }
  await removeAddressRules(addressPrefix);
}

async function reclaimStaleSlots(slotsDir: string): Promise<void> {
  for (const name of readdirSync(slotsDir)) {
    const dir = join(slotsDir, name);
    if (!/^\d+$/.test(name)) {
      // a leftover grave of an interrupted reclaim
      if (name.includes('.stale-')) {
        try {
          if (Date.now() - statSync(dir).mtimeMs > 60_000) rmSync(dir, { recursive: true, force: true });
        } catch {
          /* gone */
        }
      }
      continue;
    }
    const owner = readOwner(dir);
    if (owner && ownerAlive(owner)) continue;
    if (!owner) {
      // Just created by someone else, owner not written yet? Leave young ones alone.
      try {
        if (Date.now() - statSync(dir).mtimeMs < 30_000) continue;
      } catch {
        continue;
      }
    }
    // Stale: rename is atomic, so only one reclaimer wins.
    const grave = `${dir}.stale-${process.pid}-${Date.now()}`;
    try {
      renameSync(dir, grave);
    } catch {
      continue;
    }
    await cleanupStale(`${ADDRESS_PREFIX}.${name}`, owner);
    rmSync(grave, { recursive: true, force: true });
  }
}

/** Claims a free slot (after reclaiming dead owners' slots) and creates the cluster's base directory. */
export async function acquireSlot(label = 'c'): Promise<Slot> {
  const slotsDir = ensureRoot();
  await reclaimStaleSlots(slotsDir);
  const me = readStat(process.pid)!;
  const first = 1 + (process.pid % SLOT_COUNT);
  for (let k = 0; k < SLOT_COUNT; k++) {
    const n = 1 + ((first - 1 + k) % SLOT_COUNT);
    const dir = join(slotsDir, String(n));
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      continue;
    }
    const baseDir = join(HARNESS_ROOT, `${label}${n}-${process.pid}-${Date.now().toString(36)}`);
    const owner: SlotOwner = { pid: process.pid, startTime: me.startTime, baseDir };
    writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner));
    // Anything an earlier owner of this slot left in iptables goes now.
    await removeSlotRules(n);
    mkdirSync(baseDir, { recursive: true });
    chmodSync(baseDir, 0o755);
    return {
      n,
      dir,
      baseDir,
      addressPrefix: `${ADDRESS_PREFIX}.${n}`,
      address: (i: number) => `${ADDRESS_PREFIX}.${n}.${i}`,
      release: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  throw new Error(`no free harness slot among ${SLOT_COUNT} under ${slotsDir}`);
}

/**
 * Claims a fixed layout (slot directory `slots/fixed-<prefix>`): refused while
 * a live process holds it; a dead holder's processes, rules and base directory
 * are removed first, as for a numbered slot.
 */
export async function acquireFixedSlot(layout: FixedLayout): Promise<Slot> {
  const { addressPrefix, baseDir } = layout;
  if (!/^127\.\d{1,3}\.\d{1,3}$/.test(addressPrefix) || addressPrefix.split('.').some((o) => Number(o) > 255)) {
    throw new Error(`fixed layout: addressPrefix '${addressPrefix}' is not three octets of a loopback address (e.g. 127.0.10)`);
  }
  if (addressPrefix.startsWith(`${ADDRESS_PREFIX}.`)) throw new Error(`fixed layout: ${ADDRESS_PREFIX}.x.x belongs to the numbered slots`);
  if (!isAbsolute(baseDir) || resolve(baseDir) === '/') throw new Error(`fixed layout: baseDir '${baseDir}' must be an absolute directory below /`);
  const slotsDir = ensureRoot();
  const dir = join(slotsDir, `fixed-${addressPrefix}`);
  const me = readStat(process.pid)!;
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(dir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const owner = readOwner(dir);
    if (owner && ownerAlive(owner)) {
      throw new Error(`addresses ${addressPrefix}.x are in use by process ${owner.pid} (base directory ${owner.baseDir}); stop it first`);
    }
    if (!owner && Date.now() - statSync(dir).mtimeMs < 30_000) {
      throw new Error(`addresses ${addressPrefix}.x are being claimed by another process right now`);
    }
    const grave = `${dir}.stale-${process.pid}-${Date.now()}`;
    renameSync(dir, grave);
    await cleanupStale(addressPrefix, owner);
    rmSync(grave, { recursive: true, force: true });
  }
  try {
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, startTime: me.startTime, baseDir } satisfies SlotOwner));
    await removeAddressRules(addressPrefix);
    if (existsSync(baseDir)) {
      if (!existsSync(join(baseDir, FIXED_MARKER))) throw new Error(`${baseDir} exists and was not made by the test harness; move it away first`);
      await killProcessesUnder(baseDir);
      rmSync(baseDir, { recursive: true, force: true });
    }
    mkdirSync(baseDir, { recursive: true });
    chmodSync(baseDir, 0o755);
    writeFileSync(join(baseDir, FIXED_MARKER), `${process.pid}\n`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    n: 0,
    dir,
    baseDir,
    addressPrefix,
    address: (i: number) => `${addressPrefix}.${i}`,
    release: () => rmSync(dir, { recursive: true, force: true }),
  };
}
