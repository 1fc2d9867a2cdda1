/** The names one new plugin goes by. */
export interface PluginNames {
  /** What operators write in the config and in `[plugins.<name>]`, e.g. `acme_fence`. */
  configName: string;
  /** The npm package HandyRep looks for under that name, e.g. `handyrep-plugin-acme-fence`. */
  packageName: string;
  /** The TypeScript name of its config interface, e.g. `AcmeFenceConfig`. */
  configType: string;
}

const CONFIG_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Names from what the author typed: `acme_fence`, `acme-fence` or the package
 * name `handyrep-plugin-acme-fence` all give config name `acme_fence` and
 * package `handyrep-plugin-acme-fence`. Throws when no config name can be made.
 */
export function pluginNames(typed: string): PluginNames {
  const configName = typed.trim().replace(/^handyrep-plugin-/, '').replace(/-/g, '_');
  if (!CONFIG_NAME.test(configName)) {
    throw new Error(`'${typed}' cannot be a plugin name: use lower-case letters, digits and _ or -, starting with a letter (e.g. acme_fence)`);
  }
  const words = configName.split('_').filter(Boolean);
  return {
    configName,
    packageName: `handyrep-plugin-${words.join('-')}`,
    configType: `${words.map((word) => word[0]?.toUpperCase() + word.slice(1)).join('')}Config`,
  };
}
