#!/usr/bin/env node
// Runs the compiled node:test files of one suite, with bounds so that a hang
// fails instead of sitting forever:
//
// - every test file gets `--test-timeout` (unit 120 s, integration 600 s; on
//   Node 20 node:test applies it to each file's whole process: at the bound it
//   SIGTERMs the file's process, whose harness then tears its clusters down
//   and kills the processes the test started, and reports the file as failed);
// - each `node --test` process runs in its own process group under a hard
//   wall-clock limit (the file time-out plus a minute): past it the whole
//   group gets SIGTERM, then SIGKILL, and the file counts as failed — this
//   also covers a test process that never exits after its tests ended;
// - the integration suite as a whole stops starting files after its run
//   limit (files not run count as failed).
//
// Unit suites run in parallel (two files at a time, one `node --test`);
// integration files one at a time, one `node --test` each, because each
// builds real PostgreSQL clusters and the machine has two cores.
//
// Usage: node test/scripts/run-node-tests.mjs unit|integration [file | path-substring ...]
// Environment: HANDYREP_TEST_FILE_TIMEOUT_S (per-file time-out),
// HANDYREP_TEST_RUN_TIMEOUT_S (whole suite), HANDYREP_TEST_FAILURES (a file
// the run appends its failed files and tests to, for run-tests.sh's summary).
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const suite = process.argv[2] ?? 'unit';
const filters = process.argv.slice(3);

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry === 'fixtures') continue;
    if (statSync(path).isDirectory()) found.push(...testFiles(path));
    else if (entry.endsWith('.test.js')) found.push(path);
  }
  return found.sort();
}

function packageDists() {
  const dists = [join(root, 'plugin-sdk/dist'), join(root, 'core/dist'), join(root, 'create-plugin/dist')];
  const pluginsDir = join(root, 'plugins');
  if (existsSync(pluginsDir)) {
    for (const name of readdirSync(pluginsDir).sort()) dists.push(join(pluginsDir, name, 'dist'));
  }
  return dists;
}

const seconds = (name, fallback) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

const suites = {
  // Slowest unit file: about 7 s (the whole suite 37 s) on 2 cores with other work running.
  unit: { dirs: packageDists(), concurrency: 2, fileTimeoutS: 120, runTimeoutS: 20 * 60, onePerFile: false },
  // Slowest integration files: dashboard 47 s, candidate-rules 43 s (the whole suite 430 s) on 2 cores with other work running.
  integration: {
    dirs: [join(root, 'test/dist/harness'), join(root, 'test/dist/integration')],
    concurrency: 1,
    fileTimeoutS: 600,
    runTimeoutS: 45 * 60,
    onePerFile: true,
  },
};

const chosen = suites[suite];
if (!chosen) {
  console.error(`unknown suite '${suite}' (known: ${Object.keys(suites).join(', ')})`);
  process.exit(2);
}
const fileTimeoutMs = seconds('HANDYREP_TEST_FILE_TIMEOUT_S', chosen.fileTimeoutS) * 1000;
const runTimeoutMs = seconds('HANDYREP_TEST_RUN_TIMEOUT_S', chosen.runTimeoutS) * 1000;
/** Beyond the file time-out: node:test's own kill plus the harness teardown (at most 30 s) fit in it. */
const HARD_EXTRA_MS = 60_000;
/** After SIGTERM to a group, how long before SIGKILL. */
const TERM_GRACE_MS = 30_000;
/** After a file's `node --test` exited, how long the rest of its group may take to go. */
const LEFTOVER_GRACE_MS = 5_000;

// Arguments naming existing files are run as given; the others select the suite's files by substring.
const given = filters.filter((f) => existsSync(f) && statSync(f).isFile()).map((f) => resolve(f));
const patterns = filters.filter((f) => !given.includes(resolve(f)));
const files = [
  ...given,
  ...(patterns.length > 0 || given.length === 0
    ? chosen.dirs.flatMap(testFiles).filter((file) => patterns.length === 0 || patterns.some((f) => relative(root, file).includes(f)))
    : []),
];
if (files.length === 0) {
  console.error(`no test files found for suite '${suite}'${filters.length ? ` matching ${filters.join(', ')}` : ''}; did the build run?`);
  process.exit(1);
}
console.log(`# ${suite}: ${files.length} test files, time-out ${fileTimeoutMs / 1000} s per file, ${runTimeoutMs / 1000} s for the suite`);
for (const file of files) console.log(`#   ${relative(root, file)}`);

/** Live members of a process group (zombies excluded: pid 1 here does not reap them). */
function groupMembers(pgid) {
  const members = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') members.push(Number(entry));
  }
  return members;
}

function describeProcess(pid) {
  try {
    return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 160)}`;
  } catch {
    return String(pid);
  }
}

function signalGroup(pgid, sig) {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* the group is gone */
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitGroupGone(pgid, ms) {
  const deadline = Date.now() + ms;
  while (groupMembers(pgid).length > 0 && Date.now() < deadline) await sleep(200);
  return groupMembers(pgid);
}

/** SIGTERM to the group, SIGKILL after TERM_GRACE_MS; resolves when the group is gone (or SIGKILL was sent). */
async function endGroup(pgid) {
  signalGroup(pgid, 'SIGTERM');
  const left = await waitGroupGone(pgid, TERM_GRACE_MS);
  if (left.length > 0) {
    signalGroup(pgid, 'SIGKILL');
    await waitGroupGone(pgid, 5_000);
  }
}

let current = null;
let interrupted = null;
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(sig, () => {
    // The test processes run in their own group: pass the signal on (the
    // harness tears down on it), start no further file, exit once it is gone.
    if (interrupted) {
      if (current) signalGroup(current.pid, 'SIGKILL');
      process.exit(code);
    }
    interrupted = { sig, code };
    console.log(`# ${sig}: stopping the running test file (again to kill it at once)`);
    if (current) signalGroup(current.pid, sig);
  });
}

// Failed tests, one line each, written by failure-reporter.mjs beside the spec output.
const failuresDir = mkdtempSync(join(tmpdir(), 'handyrep-test-failures-'));
const failuresFile = join(failuresDir, 'failures.txt');
const reporterArgs = [
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  `--test-reporter=${join(root, 'test/scripts/failure-reporter.mjs')}`,
  `--test-reporter-destination=${failuresFile}`,
];

/** Runs one `node --test` over `batch` in its own process group, bounded by limitMs of wall-clock time. */
async function runBatch(batch, limitMs) {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ['--test', `--test-concurrency=${chosen.concurrency}`, `--test-timeout=${fileTimeoutMs}`, ...reporterArgs, ...batch],
    { stdio: 'inherit', cwd: root, detached: true },
  );
  current = child;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
  });
  let killedAfterMs = 0;
  const hard = setTimeout(() => {
    killedAfterMs = Date.now() - started;
    console.log(`# hard limit: ${batch.map((f) => relative(root, f)).join(' ')} still running after ${Math.round(killedAfterMs / 1000)} s: SIGTERM to its process group, SIGKILL ${TERM_GRACE_MS / 1000} s later`);
    void endGroup(child.pid);
  }, limitMs);
  const { code, signal, error } = await exited;
  clearTimeout(hard);
  let failedTests = [];
  try {
    failedTests = readFileSync(failuresFile, 'utf8').split('\n').filter(Boolean);
    rmSync(failuresFile);
  } catch {
    /* no failures written */
  }
  // Whatever the file's processes left in their group (the harness's own
  // daemons run in groups of their own and are torn down by it).
  let leftBehind = [];
  if (child.pid) {
    leftBehind = (await waitGroupGone(child.pid, killedAfterMs ? TERM_GRACE_MS : LEFTOVER_GRACE_MS)).map(describeProcess);
    if (leftBehind.length > 0) await endGroup(child.pid);
  }
  current = null;
  return { code, signal, error, killedAfterMs, leftBehind, failedTests, ms: Date.now() - started };
}

const runStarted = Date.now();
const results = [];
const batches = chosen.onePerFile ? files.map((file) => [file]) : [files];
for (const batch of batches) {
  const name = batch.length === 1 ? relative(root, batch[0]) : `${batch.length} files`;
  const remaining = runTimeoutMs - (Date.now() - runStarted);
  if (interrupted || remaining <= 0) {
    results.push({ name, ok: false, note: interrupted ? `not run (${interrupted.sig})` : `not run: the suite's ${runTimeoutMs / 1000} s were used up` });
    continue;
  }
  // One file: its time-out plus a minute; the parallel unit batch: what is left of the suite's limit.
  const limit = chosen.onePerFile ? Math.min(fileTimeoutMs + HARD_EXTRA_MS, Math.max(remaining, 60_000)) : remaining;
  const r = await runBatch(batch, limit);
  const ok = r.code === 0 && !r.killedAfterMs && !r.error;
  const note = [
    r.error ? `could not start: ${r.error.message}` : '',
    r.killedAfterMs ? `KILLED at the hard limit after ${Math.round(r.killedAfterMs / 1000)} s` : '',
    !r.killedAfterMs && r.code !== 0 ? `exit ${r.code ?? r.signal}` : '',
    r.leftBehind.length ? `left processes behind (killed): ${r.leftBehind.join('; ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  results.push({ name, ok, ms: r.ms, note, failedTests: r.failedTests });
  console.log(`# ${ok ? 'passed' : 'FAILED'}: ${name} in ${(r.ms / 1000).toFixed(1)} s${note ? ` (${note})` : ''}`);
}

const failed = results.filter((r) => !r.ok);
const timed = results.filter((r) => r.ms !== undefined).sort((a, b) => b.ms - a.ms);
console.log(`# ${suite}: ${results.length - failed.length} of ${results.length} ${chosen.onePerFile ? 'files' : 'runs'} passed in ${Math.round((Date.now() - runStarted) / 1000)} s`);
if (chosen.onePerFile && timed.length > 1) {
  console.log(`# slowest: ${timed.slice(0, 5).map((r) => `${r.name} ${(r.ms / 1000).toFixed(1)} s`).join(', ')}`);
}
const summary = failed.flatMap((r) => [
  `# FAILED: ${r.name}${r.note ? ` (${r.note})` : ''}`,
  ...(r.failedTests ?? []).slice(0, 20).map((line) => `#   ✖ ${line}`),
]);
for (const line of summary) console.log(line);
rmSync(failuresDir, { recursive: true, force: true });
if (process.env.HANDYREP_TEST_FAILURES && summary.length > 0) {
  appendFileSync(process.env.HANDYREP_TEST_FAILURES, `${suite} (Node ${process.version}):\n${summary.join('\n')}\n`);
}
process.exit(interrupted ? interrupted.code : failed.length > 0 ? 1 : 0);
