// The real-cluster test harness: see README.md in this directory.
export * from './cluster.js';
export * from './config.js';
export * from './faults.js';
export * from './launcher.js';
export * from './observers.js';
export * from './pgclient.js';
export * from './proc.js';
export * from './slots.js';
export * from './teardown.js';
export { liveClusters, setSignalTeardown } from './registry.js';
export * from './docker.js';
