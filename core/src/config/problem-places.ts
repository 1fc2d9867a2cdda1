import { ConfigError, errorMessage } from '@handyrep/plugin-sdk';

/**
 * Why a config file other than the running one could not be loaded, naming
 * only where the problems are (section, key, line), never a value read from
 * it: reload_conf may have been pointed at any file, and whatever its error
 * says is returned and logged.
 */
export function problemPlaces(err: unknown, file: string): string {
  if (!(err instanceof ConfigError)) return errorMessage(err).split(file).join('<file>').split('\n')[0] ?? '';
  const places = err.problems.map((problem) => {
    const line = /^line \d+/.exec(problem.message)?.[0];
    const where = problem.section === '' ? '' : `[${problem.section}]${problem.key === '' ? '' : ` ${problem.key}`}`;
    return [where, line].filter((part) => part !== undefined && part !== '').join(' ') || 'the file';
  });
  return `${file} is not a usable configuration (${err.code})${places.length > 0 ? `: problems at ${[...new Set(places)].join(', ')}` : ''}`;
}
