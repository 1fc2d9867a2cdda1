export { plugin } from './plugin.js';
export { simplePasswordAuthConfigSchema } from './config.js';
export type { SimplePasswordAuthConfig } from './config.js';
