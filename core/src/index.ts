export { loadConfig } from './config/load-config.js';
export type { LoadConfigOptions, LoadedConfig, PluginReference } from './config/load-config.js';
export type { HandyRepConfig } from './config/config-types.js';
export { loadPlugin } from './plugins/plugin-loader.js';
export type { LoadedPlugin, LoadPluginOptions } from './plugins/plugin-loader.js';
export { pluginCandidates } from './plugins/plugin-name.js';
export { verifyPluginPackage } from './plugins/verify-plugin-package.js';
