/** Default cap on what one command may print (stdout and stderr together). */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * Collects a command's stdout and stderr as bytes and decodes them once at
 * the end, so a UTF-8 character split across chunks survives. The cap keeps a
 * runaway command from exhausting HandyRep's memory.
 */
export class OutputBuffer {
  private readonly stdout: Buffer[] = [];
  private readonly stderr: Buffer[] = [];
  private total = 0;

  constructor(private readonly maxBytes: number = DEFAULT_MAX_OUTPUT_BYTES) {}

  /** Adds a chunk; returns false (and keeps nothing more) once the cap is exceeded. */
  add(stream: 'stdout' | 'stderr', chunk: Buffer): boolean {
    if (this.total + chunk.length > this.maxBytes) {
      this.total = this.maxBytes + 1;
      return false;
    }
    this.total += chunk.length;
    (stream === 'stdout' ? this.stdout : this.stderr).push(chunk);
    return true;
  }

  /** True once more than the cap was offered. */
  get overflowed(): boolean {
    return this.total > this.maxBytes;
  }

  /** The cap, in bytes, for messages. */
  get limit(): number {
    return this.maxBytes;
  }

  /** Standard output so far, decoded as UTF-8. */
  stdoutText(): string {
    return Buffer.concat(this.stdout).toString('utf8');
  }

  /** Standard error so far, decoded as UTF-8. */
  stderrText(): string {
    return Buffer.concat(this.stderr).toString('utf8');
  }
}
