// The installed `handyrep` command as a child process, for tests that run it
// next to a daemon (which lives in the test process or another child).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The package's command-line entry point. */
export const HANDYREP_BIN = fileURLToPath(new URL('../../../core/bin/handyrep.js', import.meta.url));

/** How a CLI run ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `handyrep args...` with no HANDYREP_* from the environment (5 minutes at most). */
export function runHandyrep(args: string[]): Promise<CliRun> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('HANDYREP_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [HANDYREP_BIN, ...args], { encoding: 'utf8', env: clean, timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}
