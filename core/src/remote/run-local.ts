import { spawn } from 'node:child_process';
import type { CommandResult } from '@handyrep/plugin-sdk';
import { BadArgumentError, ErrorCodes, HandyRepError, TimeoutError, errorMessage } from '@handyrep/plugin-sdk';
import { OutputBuffer } from './output-buffer.js';

/** Options of one local command, with the time-out already resolved. */
export interface LocalCommandOptions {
  /** Kill the command after this many milliseconds. */
  timeoutMs: number;
  /** Written to stdin, which is then closed (stdin is closed at once without input). */
  input?: string;
  /** Output cap in bytes (stdout and stderr together). */
  maxOutputBytes?: number;
}

/**
 * Runs `argv` on this host without a shell. The command gets its own process
 * group so a time-out kills whatever it started, not just the first process.
 */
export function runLocalCommand(argv: readonly string[], options: LocalCommandOptions): Promise<CommandResult> {
  const [program, ...args] = argv;
  if (program === undefined || program === '') return Promise.reject(new BadArgumentError('an empty command cannot be run'));
  const started = performance.now();
  const output = new OutputBuffer(options.maxOutputBytes);

  return new Promise<CommandResult>((resolve, reject) => {
    let settled = false;
    const child = spawn(program, args, { shell: false, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });

    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup();
      // A grandchild that escaped the group could hold the pipes open; don't wait for it.
      child.stdout.destroy();
      child.stderr.destroy();
      reject(err);
    };

    const timer = setTimeout(() => {
      fail(new TimeoutError(`local command '${program}' timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);

    child.on('error', (err) => {
      fail(new HandyRepError(ErrorCodes.REMOTE_COMMAND, `cannot run local command '${program}': ${errorMessage(err)}`, { cause: err }));
    });
    const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      if (output.add(stream, chunk)) return;
      fail(
        new HandyRepError(
          ErrorCodes.REMOTE_COMMAND,
          `local command '${program}' printed more than ${output.limit} bytes; killed`,
        ),
      );
    };
    child.stdout.on('data', collect('stdout'));
    child.stderr.on('data', collect('stderr'));
    // A command that exits without reading its input makes the write fail with EPIPE; that is not an error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');

    child.on('close', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        exitCode: code,
        stdout: output.stdoutText(),
        stderr: output.stderrText(),
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}
