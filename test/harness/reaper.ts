// A per-host "init": a tiny Perl process (perl-base is essential on Debian)
// that registers itself as a child subreaper (prctl PR_SET_CHILD_SUBREAPER),
// starts the host's sshd on request and reaps everything below it. A postmaster
// that HandyRep starts over SSH with `pg_ctl start` daemonizes and is orphaned;
// without a subreaper it would be re-parented to pid 1, which on these machines
// never reaps, so a SIGKILLed postmaster would stay a zombie that still answers
// kill -0 and blocks the next start ("lock file postmaster.pid already exists").
// Under this reaper it is reaped like any child.
//
// When its stdin closes (the test process died or tore down), it kills what is
// left below it: SIGQUIT (immediate shutdown) for postgres, SIGKILL otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { settlesWithin } from './proc.js';

const PERL = String.raw`
use strict; use warnings; use POSIX (); use JSON::PP ();
$| = 1;
print "hello $$\n";
my %nr = (x86_64 => 157, aarch64 => 167, i686 => 172, i386 => 172, armv7l => 172, ppc64le => 171, s390x => 172, riscv64 => 167);
my $arch = (POSIX::uname())[4];
if (defined $nr{$arch}) {
  syscall($nr{$arch}, 36, 1, 0, 0, 0) == 0 or print "warn prctl failed: $!\n";
} else { print "warn no subreaper on $arch\n"; }
sub reap { while ((my $p = waitpid(-1, POSIX::WNOHANG())) > 0) { print "exited $p $?\n"; } }
sub children {
  my @c;
  opendir(my $d, '/proc') or return ();
  for my $e (readdir $d) {
    next unless $e =~ /^\d+$/;
    open(my $f, '<', "/proc/$e/stat") or next; my $s = <$f>; close $f;
    next unless defined $s && $s =~ /^\d+ \((.*)\) (\S) (\d+)/s;
    push @c, [$e, $1, $2] if $3 == $$ && $2 ne 'Z';
  }
  closedir $d; return @c;
}
my $buf = '';
for (;;) {
  reap();
  my $rin = ''; vec($rin, fileno(STDIN), 1) = 1;
  my $n = select(my $rout = $rin, undef, undef, 0.1);
  next unless defined $n && $n > 0;
  my $r = sysread(STDIN, $buf, 65536, length $buf);
  last unless $r;
  while ($buf =~ s/^([^\n]*)\n//) {
    my $line = $1;
    next unless $line =~ /^start (.*)$/;
    my $req = eval { JSON::PP::decode_json($1) };
    if (!$req) { print "failed bad request\n"; next; }
    my @argv = @{$req->{argv}};
    my $pid = fork();
    if (!defined $pid) { print "failed fork: $!\n"; next; }
    if ($pid == 0) {
      POSIX::setsid();
      open(STDIN, '<', '/dev/null'); open(STDOUT, '>>', $req->{log}); open(STDERR, '>&', \*STDOUT);
      exec { $argv[0] } @argv; POSIX::_exit(127);
    }
    print "started $pid\n";
  }
}
# stdin closed: take down whatever is left below this process
my %sent;
for my $round (1 .. 60) {
  reap();
  my @c = children();
  last unless @c;
  for my $c (@c) {
    my ($pid, $comm, $state) = @$c;
    if ($round >= 40) { kill 'KILL', $pid; next; }
    next if $sent{$pid}++;
    if ($comm eq 'postgres') { kill 'QUIT', $pid; kill 'CONT', $pid; } else { kill 'KILL', $pid; }
  }
  select(undef, undef, undef, 0.1);
}
reap();
exit 0;
`;

export class HostReaper {
  readonly child: ChildProcess;
  /** The reaper's own pid (reported by it: differs from child.pid when wrapped, e.g. in docker exec). */
  pid: number;
  private helloResolve!: () => void;
  readonly ready: Promise<void>;
  private pending: Array<(line: string) => void> = [];
  private exitWaiters = new Map<number, Array<() => void>>();
  private readonly exitedPids = new Set<number>();
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  readonly whenExited: Promise<void>;

  /** `wrap`: a command prefix the reaper runs under (e.g. `docker exec -i <container>`). */
  constructor(logFile: string, wrap: string[] = []) {
    const fd = openSync(logFile, 'a');
    this.ready = new Promise((r) => (this.helloResolve = r));
    try {
      const argv = [...wrap, '/usr/bin/perl', '-e', PERL];
      this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', fd], detached: true, cwd: '/' });
    } finally {
      closeSync(fd);
    }
    if (!this.child.pid) throw new Error('could not start the host reaper (perl)');
    this.pid = this.child.pid;
    this.child.stdin!.on('error', () => {});
    this.whenExited = new Promise((resolve) => this.child.on('exit', () => resolve()));
    const rl = createInterface({ input: this.child.stdout! });
    rl.on('line', (line) => {
      if (line.startsWith('hello ')) {
        this.pid = Number(line.slice(6));
        this.helloResolve();
        return;
      }
      const m = /^exited (\d+) /.exec(line);
      if (m) {
        const pid = Number(m[1]);
        this.exitedPids.add(pid);
        for (const w of this.exitWaiters.get(pid) ?? []) w();
        this.exitWaiters.delete(pid);
        return;
      }
      if (line.startsWith('started ') || line.startsWith('failed ')) {
        this.pending.shift()?.(line);
        return;
      }
      if (line.startsWith('warn ')) process.stderr.write(`harness reaper: ${line}\n`);
    });
    this.child.unref();
    (this.child.stdout as unknown as { unref?: () => void }).unref?.();
  }

  /** Starts argv below the reaper (own session), output appended to logFile; returns its pid. */
  start(argv: string[], logFile: string): Promise<number> {
    const p = this.chain.then(
      () =>
        new Promise<number>((resolve, reject) => {
          if (this.closed) return reject(new Error('reaper closed'));
          // A referenced timer keeps the event loop alive while waiting (the pipes are unref'd).
          const timer = setTimeout(() => reject(new Error(`reaper did not answer starting ${argv[0]}`)), 10_000);
          this.pending.push((line) => {
            clearTimeout(timer);
            if (line.startsWith('started ')) resolve(Number(line.slice(8)));
            else reject(new Error(`reaper could not start ${argv[0]}: ${line}`));
          });
          this.child.stdin!.write(`start ${JSON.stringify({ argv, log: logFile })}\n`);
        }),
    );
    this.chain = p.catch(() => {});
    return p;
  }

  /** Resolves when the reaper has reaped pid (a direct or adopted child). */
  waitExit(pid: number, timeoutMs: number): Promise<boolean> {
    if (this.exitedPids.has(pid)) return Promise.resolve(true);
    let resolveExit!: () => void;
    const exited = new Promise<void>((resolve) => (resolveExit = resolve));
    const list = this.exitWaiters.get(pid) ?? [];
    list.push(resolveExit);
    this.exitWaiters.set(pid, list);
    return settlesWithin(exited, timeoutMs);
  }

  /** Closes stdin: the reaper kills what is left below it and exits. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return this.whenExited;
    this.closed = true;
    this.child.stdin!.end();
    const done = await settlesWithin(this.whenExited, timeoutMs);
    if (!done) {
      this.child.kill('SIGKILL');
      await this.whenExited;
    }
  }
}
