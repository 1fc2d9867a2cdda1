// The container PostgreSQL of the testing kit stays optional: nothing the SDK's
// other entry points load reaches it or testcontainers, and without an engine
// it gives a reason to skip (an error under HANDYREP_REQUIRE_DOCKER).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { POSTGRES_IMAGE_FLAVOURS, postgresBinDir, postgresContainerProblem, postgresImageScript } from './postgres.js';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every module file reachable by static or dynamic relative imports from `entry`, and the bare specifiers they name. */
function importGraph(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else bare.add(specifier);
    }
  };
  visit(entry);
  return { files, bare };
}

describe('testing/postgres (optional container PostgreSQL)', () => {
  it('is reached neither from the SDK nor from its testing kit', () => {
    for (const entry of ['index.js', 'testing/index.js']) {
      const { files, bare } = importGraph(join(dist, entry));
      assert.ok(files.size > 3, `${entry} graph read`);
      assert.equal([...files].some((file) => file.endsWith('/testing/postgres.js')), false, `${entry} reaches testing/postgres`);
      assert.equal(bare.has('testcontainers'), false, `${entry} imports testcontainers`);
    }
    const own = importGraph(join(dist, 'testing/postgres.js'));
    assert.ok(own.bare.has('testcontainers'), 'it loads testcontainers itself (when called)');
    assert.doesNotMatch(readFileSync(join(dist, 'testing/postgres.js'), 'utf8'), /^import[^(]*['"]testcontainers['"]/m, 'only by a dynamic import');
  });

  it('ships its image script, with a flavour per major version', () => {
    assert.ok(existsSync(postgresImageScript()), postgresImageScript());
    const script = readFileSync(postgresImageScript(), 'utf8');
    for (const flavour of Object.values(POSTGRES_IMAGE_FLAVOURS)) assert.ok(script.includes(`${flavour})`), flavour);
    assert.equal(postgresBinDir(17), '/usr/lib/postgresql/17/bin');
  });

  it('gives a reason without an engine, and fails under HANDYREP_REQUIRE_DOCKER', async () => {
    const saved = { host: process.env['DOCKER_HOST'], require: process.env['HANDYREP_REQUIRE_DOCKER'] };
    try {
      process.env['DOCKER_HOST'] = 'unix:///nonexistent/handyrep-test.sock';
      delete process.env['HANDYREP_REQUIRE_DOCKER'];
      assert.match((await postgresContainerProblem()) ?? '', /no Docker engine answers at \/nonexistent\/handyrep-test\.sock/);
      process.env['DOCKER_HOST'] = 'tcp://127.0.0.1:2375';
      assert.match((await postgresContainerProblem()) ?? '', /not a unix socket/);
      process.env['HANDYREP_REQUIRE_DOCKER'] = '1';
      await assert.rejects(postgresContainerProblem(), /HANDYREP_REQUIRE_DOCKER is set but/);
    } finally {
      for (const [key, value] of [['DOCKER_HOST', saved.host], ['HANDYREP_REQUIRE_DOCKER', saved.require]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
