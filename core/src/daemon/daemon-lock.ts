import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';

function processAlive(pid: number): boolean {
  try {
    // A zombie still answers kill -0; its /proc state says Z.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/**
 * One daemon per state file: a lock file holding the owner's PID, created
 * exclusively. A lock whose owner is gone is taken over; a live owner stops
 * the second daemon at start.
 */
export class DaemonLock {
  private held = false;

  constructor(readonly path: string) {}

  /** Takes the lock or throws naming the PID that holds it. */
  acquire(): void {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const fd = openSync(this.path, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number.parseInt(readFileSync(this.path, 'utf8').trim(), 10);
        if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
          throw new Error(`another HandyRep daemon (pid ${owner}) manages this state file; lock ${this.path}`);
        }
        rmSync(this.path, { force: true });
      }
    }
    throw new Error(`could not take the lock ${this.path}`);
  }

  /** Releases the lock if this process holds it. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    rmSync(this.path, { force: true });
  }
}
