// Address slots: every cluster claims a slot n (atomic mkdir) and uses only
// loopback addresses 127.77.<n>.x, so test files running at the same time
// never collide. A slot whose owner process is dead is reclaimed, after what
// its owner left behind (processes, iptables rules, base directory) is removed.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
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
  n: number;
  dir: string;
  baseDir: string;
  /** `127.77.<n>.<i>` */
  address(i: number): string;
  release(): void;
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
export async function removeSlotRules(n: number): Promise<string[]> {
  const removed: string[] = [];
  const needle = `${ADDRESS_PREFIX}.${n}.`;
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

async function cleanupStale(n: number, owner: SlotOwner | null): Promise<void> {
  if (owner?.baseDir) {
    removeContainersSync(owner.baseDir);
    await killProcessesUnder(owner.baseDir);
    rmSync(owner.baseDir, { recursive: true, force: true });
  }
  await removeSlotRules(n);
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
    await cleanupStale(Number(name), owner);
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
      address: (i: number) => `${ADDRESS_PREFIX}.${n}.${i}`,
      release: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  throw new Error(`no free harness slot among ${SLOT_COUNT} under ${slotsDir}`);
}
