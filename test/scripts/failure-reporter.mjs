// A node:test reporter that writes one line per failed test: the file, the
// test's name and the first line of its error. run-node-tests.mjs adds it next
// to the spec reporter and repeats its lines at the end of the run, so that a
// failure is named in the last lines of a long CI log (which is often all that
// is kept of it).
import { relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

function firstLine(error) {
  const cause = error?.cause ?? error;
  const text = String(cause?.message ?? cause ?? 'failed');
  return text.split('\n').find((line) => line.trim() !== '')?.trim().slice(0, 300) ?? 'failed';
}

export default async function* failureReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    // A suite fails because a test in it failed; that test has its own line.
    if (details?.error?.failureType === 'subtestsFailed') continue;
    const where = file ? relative(root, file) : '?';
    yield `${where} › ${name}: ${firstLine(details?.error)}\n`;
  }
}
