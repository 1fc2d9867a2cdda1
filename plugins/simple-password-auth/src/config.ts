import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.simple_password_auth]` section, defaults applied. */
export interface SimplePasswordAuthConfig {
  /** `[passwords]` key holding the admin password. */
  admin_password_key: string;
  /** `[passwords]` key holding the read-only password; empty: no read-only access. */
  read_password_key: string;
  /** User name that goes with the admin password; empty: any user name. */
  admin_user: string;
  /** User name that goes with the read-only password; empty: any user name. */
  read_user: string;
}

/** JSON Schema of `[plugins.simple_password_auth]`. */
export const simplePasswordAuthConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Two passwords from [passwords]: one grants admin, the other read-only access. Compared in constant time.',
  properties: {
    admin_password_key: {
      type: 'string',
      minLength: 1,
      default: 'admin_password',
      description: 'Key in [passwords] holding the admin password. HandyRep does not start when it is missing or empty.',
    },
    read_password_key: {
      type: 'string',
      default: 'read_password',
      description:
        'Key in [passwords] holding the read-only password. HandyRep does not start when it is missing or empty; set this key to an empty value to offer no read-only access.',
    },
    admin_user: {
      type: 'string',
      default: 'admin',
      description: 'User name that must accompany the admin password; empty accepts any user name.',
    },
    read_user: {
      type: 'string',
      default: 'read',
      description: 'User name that must accompany the read-only password; empty accepts any user name.',
    },
  },
  additionalProperties: false,
};
