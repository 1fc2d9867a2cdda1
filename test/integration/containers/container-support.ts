// Shared by the container suites: clusters on the docker backend (the plugin
// SDK's images: PostgreSQL 15 on Debian bookworm, 17 on Debian trixie), the
// reason to skip when no engine answers (an error instead when
// HANDYREP_REQUIRE_DOCKER is set, as `npm test` does), and timing lines.
import type { PostgresMajor } from '@handyrep/plugin-sdk/testing/postgres';
import { REQUIRE_DOCKER_ENV } from '@handyrep/plugin-sdk/testing/postgres';
import { dockerAvailable } from '../../harness/index.js';
import type { ClusterOptions } from '../../harness/index.js';

/** Why these suites cannot run here, or undefined. Throws when HANDYREP_REQUIRE_DOCKER is set and there is no engine. */
export async function containerSkipReason(): Promise<string | undefined> {
  const why = await dockerAvailable();
  if (why === null) return undefined;
  if (process.env[REQUIRE_DOCKER_ENV]) throw new Error(`${REQUIRE_DOCKER_ENV} is set but there is no Docker engine: ${why}`);
  return `no Docker engine: ${why}`;
}

/** Cluster options for a containerised cluster of a PostgreSQL major version. */
export function onContainers(major: PostgresMajor, extra: ClusterOptions = {}): ClusterOptions {
  return { ...extra, backend: 'docker', postgresMajor: major };
}

/** Milliseconds since `start`, for the `# ...` timing lines. */
export function since(start: number): number {
  return Date.now() - start;
}
