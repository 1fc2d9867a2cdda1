import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.archive_delete_find]` section, defaults applied. */
export interface ArchiveDeleteFindConfig {
  /** SSH time-out of the find run on the archive host. */
  command_timeout_seconds: number;
}

/** JSON Schema of `[plugins.archive_delete_find]`. */
export const archiveDeleteFindConfigSchema: ObjectSchema = {
  type: 'object',
  description:
    'Deletes WAL segments older than [archive] archive_delete_hours from [archive] archive_directory with find, on the archive server (or the master when none is set), touching nothing else.',
  properties: {
    command_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 300,
      description: 'SSH time-out of the find run that deletes expired segments; a large archive on slow storage may need more. On time-out the result is FAIL and some files may already be gone.',
    },
  },
  additionalProperties: false,
};
