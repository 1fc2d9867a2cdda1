/**
 * The spec's function names and the library's camelCase methods, 1:1. The web
 * API and the CLI use the spec names; the library uses the method names.
 * `web` says whether the spec makes the function available over HTTP, and
 * `access` whether it only reads (`read`) or acts (`admin`).
 */
export const API_FUNCTIONS = [
  { spec: 'get_status', method: 'getStatus', web: true, access: 'read' },
  { spec: 'get_cluster_status', method: 'getClusterStatus', web: true, access: 'read' },
  { spec: 'get_master_name', method: 'getMasterName', web: true, access: 'read' },
  { spec: 'get_server_info', method: 'getServerInfo', web: true, access: 'read' },
  { spec: 'read_log', method: 'readLog', web: true, access: 'read' },
  { spec: 'get_setting', method: 'getSetting', web: true, access: 'read' },
  { spec: 'set_verbose', method: 'setVerbose', web: true, access: 'admin' },
] as const;

/** A spec function name known to this version. */
export type SpecFunctionName = (typeof API_FUNCTIONS)[number]['spec'];

/** The library method implementing a spec function, or undefined when there is none. */
export function methodForSpecName(spec: string): string | undefined {
  return API_FUNCTIONS.find((entry) => entry.spec === spec)?.method;
}
