#!/usr/bin/env node
// The daemon's memory settings must come before HandyRep's modules are loaded
// (see daemon-footprint.ts), hence the dynamic import of main.
import { reduceDaemonFootprint } from '../dist/cli/daemon-footprint.js';

reduceDaemonFootprint(process.argv);
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
