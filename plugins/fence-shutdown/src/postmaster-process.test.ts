// The process check's script run by the machine's /bin/sh against real local
// processes: a zombie, a live and a stopped process, and none at all.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { postmasterStateScript, readPostmasterState } from './postmaster-process.js';

const base = mkdtempSync(join(tmpdir(), 'fence-proc-'));
const holders: ChildProcess[] = [];

after(() => {
  // Closing stdin makes each holder kill and reap its child, and exit.
  for (const holder of holders) holder.stdin?.end();
  rmSync(base, { recursive: true, force: true });
});

/** A child of a Perl parent that reaps it only when its stdin closes: `seconds` 0 makes it a zombie at once. */
async function unreaped(seconds: number): Promise<number> {
  const holder = spawn('/usr/bin/perl', ['-e', '$| = 1; my $p = fork(); if (!$p) { exec "sleep", $ARGV[0]; exit 127 } print "$p\\n"; <STDIN>; kill "KILL", $p; waitpid($p, 0);', String(seconds)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  holders.push(holder);
  const pid = await new Promise<number>((resolve) => holder.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  for (let i = 0; i < 100 && seconds === 0 && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 10));
  return pid;
}

function check(name: string, pidFile: string | undefined): ReturnType<typeof readPostmasterState> {
  const pgdata = join(base, name);
  mkdirSync(pgdata, { recursive: true });
  if (pidFile !== undefined) writeFileSync(join(pgdata, 'postmaster.pid'), pidFile);
  const run = spawnSync('/bin/sh', ['-c', postmasterStateScript(pgdata)], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return readPostmasterState(run.stdout);
}

describe('postmaster process check', () => {
  it('a zombie and a PID that no longer exists are dead; a sleeping process is alive; a SIGSTOPped one is stopped', async () => {
    const zombie = await unreaped(0);
    const live = await unreaped(30);
    assert.equal(check('zombie', `${zombie}\n/data\n`).state, 'dead');
    assert.match(check('zombie2', `${zombie}\n`).detail, /zombie/);
    assert.equal(check('gone', '4000000\n').state, 'dead');
    assert.equal(check('live', `${live}\n`).state, 'alive');
    process.kill(live, 'SIGSTOP');
    assert.equal(check('stopped', `${live}\n`).state, 'stopped');
    process.kill(live, 'SIGCONT');
  });

  it('no PID file, or no process id in it, is none; a quoted data directory is one word', () => {
    assert.equal(check('no-file', undefined).state, 'none');
    assert.equal(check('bad', '-123\n').state, 'none');
    assert.equal(check("it's a dir; $(touch x)", `${process.pid}\n`).state, 'alive');
  });

  it('output without the lines (no /proc) is unknown', () => {
    assert.equal(readPostmasterState('').state, 'unknown');
  });
});
