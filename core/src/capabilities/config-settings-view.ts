import type { SettingsView } from '@handyrep/plugin-sdk';
import type { HandyRepConfig } from '../config/config-types.js';

/** Sections a plugin may read through SettingsView; `[passwords]` is never among them. */
const READABLE_SECTIONS = ['handyrep', 'failover', 'archive'] as const;

/** The non-secret core sections as a SettingsView; `current` is read on each call so a reload is honoured. */
export function configSettingsView(current: () => HandyRepConfig): SettingsView {
  return {
    get(section, key) {
      if (!(READABLE_SECTIONS as readonly string[]).includes(section)) return undefined;
      const values = current()[section as (typeof READABLE_SECTIONS)[number]] as unknown as Record<string, unknown>;
      return values[key];
    },
  };
}
