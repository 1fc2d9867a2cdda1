import type { PluginKind } from '@handyrep/plugin-sdk';
import { KIND_TEMPLATES } from './kind-templates.js';
import type { PluginNames } from './plugin-names.js';

/** Versions the generated package.json asks for: those this package was built and tested with. */
export interface ScaffoldVersions {
  /** Range of `@handyrep/plugin-sdk` (peer and dev dependency). */
  sdk: string;
  /** Range of `@handyrep/core` (dev dependency, for verifyPlugin). */
  core: string;
  /** Range of `typescript`. */
  typescript: string;
  /** Range of `@types/node`. */
  typesNode: string;
  /** The Node versions HandyRep supports (`engines.node`). */
  node: string;
}

/** What one new plugin is. */
export interface ScaffoldRequest {
  /** Its names. */
  names: PluginNames;
  /** Its kind. */
  kind: PluginKind;
  /** One line saying what it does. */
  description: string;
  /** Dependency ranges. */
  versions: ScaffoldVersions;
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** A single-quoted TypeScript string literal. */
const tsString = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;

function packageJson({ names, description, versions }: ScaffoldRequest): string {
  return json({
    name: names.packageName,
    version: '0.1.0',
    description,
    keywords: ['handyrep', 'handyrep-plugin', 'postgresql'],
    license: 'ISC',
    type: 'module',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: {
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist', '!dist/**/*.test.*', 'README.md'],
    engines: { node: versions.node },
    scripts: {
      build: 'tsc -p tsconfig.json',
      test: 'npm run build && node --test dist/*.test.js',
      prepack: 'npm run build',
    },
    peerDependencies: { '@handyrep/plugin-sdk': versions.sdk },
    devDependencies: {
      '@handyrep/core': versions.core,
      '@handyrep/plugin-sdk': versions.sdk,
      '@types/node': versions.typesNode,
      typescript: versions.typescript,
    },
  });
}

function tsconfig(): string {
  return json({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      declaration: true,
      sourceMap: true,
      // The package ships dist only: the maps carry their sources.
      inlineSources: true,
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  });
}

function configSource({ names }: ScaffoldRequest): string {
  return `import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The \`[plugins.${names.configName}]\` section, with the schema's defaults applied. */
export interface ${names.configType} {
  /** How long one call may take before the plugin gives up, in seconds. */
  timeout_seconds: number;
}

/**
 * JSON Schema of \`[plugins.${names.configName}]\`. HandyRep checks the section
 * against it at start (naming the section and key of every mistake), applies
 * its defaults and turns the INI strings into its types.
 */
export const configSchema: ObjectSchema = {
  type: 'object',
  properties: {
    timeout_seconds: {
      type: 'integer',
      minimum: 1,
      default: 10,
      description: 'How long one call may take before the plugin gives up; keep it below [handyrep] plugin_timeout.',
    },
  },
  additionalProperties: false,
};
`;
}

function pluginSource({ names, kind, description }: ScaffoldRequest): string {
  const template = KIND_TEMPLATES[kind];
  const sdkImports = template.methods.includes('fail(') ? 'definePlugin, fail' : 'definePlugin';
  return `import { ${sdkImports} } from '@handyrep/plugin-sdk';
import { configSchema } from './config.js';
import type { ${names.configType} } from './config.js';

/** \`${template.key} = ${names.configName}\`. */
export const plugin = definePlugin<'${kind}', ${names.configType}>({
  kind: '${kind}',
  name: '${names.configName}',
  description: ${tsString(description)},
  configSchema,
  create(context) {
    // Every method answers FAIL until you write it; the SDK's kind interface says what each must do.
    const notWritten = (what: string): string => \`\${context.name}: \${what} is not written yet\`;
    return {
${template.methods}    };
  },
});
`;
}

function indexSource({ names }: ScaffoldRequest): string {
  return `export { plugin } from './plugin.js';
export { configSchema } from './config.js';
export type { ${names.configType} } from './config.js';
`;
}

function testSource({ names, kind }: ScaffoldRequest): string {
  const template = KIND_TEMPLATES[kind];
  const testing = ['createTestContext', ...template.testingImports, 'verifyPlugin'].sort();
  return `import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ${testing.join(', ')} } from '@handyrep/plugin-sdk/testing';
import type { ${names.configType} } from './config.js';
import { plugin } from './plugin.js';

describe('${names.configName}', () => {
  it('passes the HandyRep loader: declaration, API version, schema defaults, creation, methods', async () => {
    const report = await verifyPlugin(plugin, { kind: '${kind}' });
    assert.deepEqual(report.config, { timeout_seconds: 10 });
  });

  it('is found through its package.json, as HandyRep finds it once installed', async () => {
    // '.' is this package (npm test runs in its folder); HandyRep resolves it by exports, as a user's install would.
    const report = await verifyPlugin('.', { kind: '${kind}', config: { timeout_seconds: 5 } });
    assert.equal(report.packageName, '${names.packageName}');
    assert.deepEqual(report.config, { timeout_seconds: 5 });
  });

  it('refuses a section its schema rejects, naming the key', async () => {
    await assert.rejects(verifyPlugin(plugin, { config: { timeout_seconds: 0 } }), /timeout_seconds/);
  });

  it('answers until it is written (replace this with what your plugin really does)', async () => {
    const { context } = createTestContext<${names.configType}>({
      name: '${names.configName}',
      config: { timeout_seconds: 10 },
      servers: [
        { name: 'db1', hostname: '127.0.0.1', role: 'master' },
        { name: 'db2', hostname: '127.0.0.2', role: 'replica' },
      ],
    });
    const instance = await plugin.create(context);
    const answer = await ${template.exampleCall};
    assert.match(JSON.stringify(answer), /not written yet/);
  });
});
`;
}

function readme({ names, kind, description }: ScaffoldRequest): string {
  const template = KIND_TEMPLATES[kind];
  return `# ${names.packageName}

${description}

A HandyRep plugin of kind \`${kind}\`, chosen with \`${template.configKey}\`.

## Use it

Install it where HandyRep is installed (\`npm install ${names.packageName}\`), then name it in
\`handyrep.conf\`:

\`\`\`ini
[${template.section}]
${template.key} = ${names.configName}

[plugins.${names.configName}]
timeout_seconds = 10
\`\`\`

\`handyrep check-config\` lists it with its version once HandyRep finds it.

## \`[plugins.${names.configName}]\`

| key | type | default | meaning |
| --- | --- | --- | --- |
| \`timeout_seconds\` | integer (≥ 1) | \`10\` | How long one call may take before the plugin gives up; keep it below \`[handyrep] plugin_timeout\`. |

## Develop it

\`\`\`sh
npm install
npm test        # builds (tsc), then runs dist/*.test.js with node --test
\`\`\`

\`src/plugin.ts\` declares the plugin; every method answers FAIL ("not written yet") until you
write it. \`src/config.ts\` holds the schema of its section. \`src/plugin.test.ts\` runs it through
the real HandyRep loader with \`verifyPlugin\` and calls it with a context of fakes from
\`@handyrep/plugin-sdk/testing\`. See HandyRep's \`docs/writing-a-plugin.md\`.
`;
}

const GITIGNORE = 'node_modules/\ndist/\n*.tgz\n';

/** Every file of the new package, by path relative to its folder. */
export function pluginFiles(request: ScaffoldRequest): Record<string, string> {
  return {
    'package.json': packageJson(request),
    'tsconfig.json': tsconfig(),
    'README.md': readme(request),
    '.gitignore': GITIGNORE,
    'src/index.ts': indexSource(request),
    'src/config.ts': configSource(request),
    'src/plugin.ts': pluginSource(request),
    'src/plugin.test.ts': testSource(request),
  };
}
