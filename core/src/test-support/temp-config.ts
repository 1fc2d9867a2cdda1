import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A temporary directory holding one config file, for tests. */
export interface TempConfig {
  /** The directory. */
  dir: string;
  /** The config file in it. */
  file: string;
  /** Removes the directory. */
  cleanup(): Promise<void>;
}

/** Writes `text` as handyrep.conf (mode 0600, as a file with passwords must be) in a fresh temporary directory. */
export async function writeTempConfig(text: string, fileName = 'handyrep.conf'): Promise<TempConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'handyrep-config-'));
  const file = join(dir, fileName);
  await writeFile(file, text, { mode: 0o600 });
  return { dir, file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Absolute path of a loader fixture plugin under core/test-fixtures/plugins. */
export function fixturePlugin(name: string): string {
  return fileURLToPath(new URL(`../../test-fixtures/plugins/${name}`, import.meta.url));
}
