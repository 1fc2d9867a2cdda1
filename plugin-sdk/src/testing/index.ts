// Plugins run on Node.js and some of these types are Node's: the declarations pull in @types/node (a dependency), so a project that uses them needs no types of its own.
/// <reference types="node" preserve="true" />
export { FakeClock } from './fake-clock.js';
export { FakeShell } from './fake-shell.js';
export type { RecordedCommand, ShellResponder } from './fake-shell.js';
export { FakeHeldSession, FakeSql } from './fake-sql.js';
export type { RecordedQuery, SqlResponder } from './fake-sql.js';
export { MemoryLogger } from './memory-logger.js';
export type { CapturedLog } from './memory-logger.js';
export { createTestContext, staticServerView, testServer } from './test-context.js';
export type { TestContext, TestContextOptions, TestServer } from './test-context.js';
export { CORE_MISSING_MESSAGE, verifyPlugin } from './verify-plugin.js';
export type { VerifyPluginOptions, VerifyPluginReport, VerifyPluginTarget } from './verify-plugin.js';
export { makeTestCertificates, opensslMissing } from './tls-certificates.js';
export type { TestCertificateOptions, TestCertificates } from './tls-certificates.js';
export { testCandidate } from './test-candidate.js';
