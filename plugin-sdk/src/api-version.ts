/** The plugin API version this SDK describes; the core refuses plugins built for another one. */
export const PLUGIN_API_VERSION = 1;
