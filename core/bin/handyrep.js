#!/usr/bin/env node
// The daemon's heap settings must come before HandyRep's modules are loaded
// (see daemon-heap.ts), hence the dynamic import of main.
import { tuneDaemonHeap } from '../dist/cli/daemon-heap.js';

tuneDaemonHeap(process.argv);
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
