/** How many entries a ring keeps when no capacity is given. */
export const DEFAULT_RING_CAPACITY = 1000;

/**
 * The most recent serialised log lines, kept in memory so read_log has
 * something to return when the log goes to stdout. It is a pino destination:
 * the logger writes every line to it after redaction.
 */
export class LogRing {
  /** The most lines kept; older ones are dropped. */
  readonly capacity: number;
  private readonly lines: string[] = [];
  private next = 0;

  constructor(capacity: number = DEFAULT_RING_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`log ring capacity must be a positive integer, got ${String(capacity)}`);
    }
    this.capacity = capacity;
  }

  /** How many lines are held now. */
  get size(): number {
    return this.lines.length;
  }

  /** Stores one serialised line (pino's destination contract). */
  write(line: string): void {
    const trimmed = line.endsWith('\n') ? line.slice(0, -1) : line;
    if (this.lines.length < this.capacity) {
      this.lines.push(trimmed);
    } else {
      this.lines[this.next] = trimmed;
    }
    this.next = (this.next + 1) % this.capacity;
  }

  /** Up to `count` lines, newest first. */
  newest(count: number): string[] {
    const out: string[] = [];
    const held = this.lines.length;
    for (let i = 1; i <= Math.min(count, held); i++) {
      out.push(this.lines[(this.next - i + this.capacity) % this.capacity] as string);
    }
    return out;
  }
}
