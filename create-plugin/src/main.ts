import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { PLUGIN_KINDS } from '@handyrep/plugin-sdk';
import { KIND_TEMPLATES } from './kind-templates.js';
import { scaffoldPlugin } from './scaffold.js';

const USAGE = `usage: npm init @handyrep/plugin <name> -- --kind <kind> [--description <text>] [--directory <folder>]

Creates handyrep-plugin-<name>/: a HandyRep plugin package that builds, tests
with the SDK's testing kit and passes verifyPlugin.
kinds: ${PLUGIN_KINDS.join(', ')}`;

/** The command line of `npm init @handyrep/plugin`; returns the exit code (0 done, 1 refused, 2 usage). */
export async function main(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        kind: { type: 'string' },
        description: { type: 'string' },
        directory: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`create-plugin: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [name, ...extra] = positionals;
  if (name === undefined || extra.length > 0 || values.kind === undefined) {
    console.error(`create-plugin: ${name === undefined ? 'a plugin name is needed' : extra.length > 0 ? `one name only (got ${positionals.join(' ')})` : '--kind is needed'}\n\n${USAGE}`);
    return 2;
  }
  try {
    const result = await scaffoldPlugin({
      name,
      kind: values.kind,
      ...(values.description === undefined ? {} : { description: values.description }),
      ...(values.directory === undefined ? {} : { directory: values.directory }),
    });
    const folder = relative(process.cwd(), result.directory) || '.';
    const template = KIND_TEMPLATES[values.kind as keyof typeof KIND_TEMPLATES];
    console.log(`Created ${result.packageName} in ${folder}: ${result.files.join(', ')}

Next:
  cd ${folder}
  npm install
  npm test

Then install it where HandyRep runs and name it in handyrep.conf:
  [${template.section}]
  ${template.key} = ${result.configName}`);
    return 0;
  } catch (err) {
    console.error(`create-plugin: ${(err as Error).message}`);
    return 1;
  }
}
