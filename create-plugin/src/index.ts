export { main } from './main.js';
export { KIND_TEMPLATES } from './kind-templates.js';
export type { KindTemplate } from './kind-templates.js';
export { pluginFiles } from './plugin-files.js';
export type { ScaffoldRequest, ScaffoldVersions } from './plugin-files.js';
export { pluginNames } from './plugin-names.js';
export type { PluginNames } from './plugin-names.js';
export { ownVersions, scaffoldPlugin } from './scaffold.js';
export type { ScaffoldOptions, ScaffoldResult } from './scaffold.js';
