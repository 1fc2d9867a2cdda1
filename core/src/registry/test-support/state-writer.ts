// Test helper run as a child process by state-file.test: writes fixture states
// with increasing generation until it is killed.
// Usage: node state-writer.js <state file> <async|sync>
import { readStateFile, writeStateFileAtomic, writeStateFileAtomicSync } from '../state-file.js';
import { fixtureState } from './state-fixture.js';

const [path, mode] = process.argv.slice(2);
if (path === undefined || (mode !== 'async' && mode !== 'sync')) {
  process.stderr.write('usage: state-writer.js <state file> <async|sync>\n');
  process.exit(2);
}
const existing = await readStateFile(path);
let generation = existing?.generation ?? 0;
process.stdout.write('writing\n');
for (;;) {
  generation += 1;
  if (mode === 'sync') writeStateFileAtomicSync(path, fixtureState(generation));
  else await writeStateFileAtomic(path, fixtureState(generation));
}
