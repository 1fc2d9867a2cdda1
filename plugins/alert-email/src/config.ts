import type { AlertSeverity, ObjectSchema } from '@handyrep/plugin-sdk';
import { minSeveritySchema } from './severity.js';

/** The `[plugins.alert_email]` section, defaults applied. */
export interface AlertEmailConfig {
  /** SMTP server host name or address. */
  host: string;
  /** SMTP port. */
  port: number;
  /** Implicit TLS from the first byte (SMTPS, usually port 465). */
  secure: boolean;
  /** Without `secure`: refuse to send unless the server offers STARTTLS and the upgrade succeeds. */
  starttls_required: boolean;
  /** PEM file of extra certificate authorities to trust for the server's certificate; empty: system CAs only. */
  ca_file: string;
  /** Sender address. */
  from: string;
  /** Recipients: a list, or one string of comma-separated addresses. */
  to: string[] | string;
  /** SMTP user name; empty: no authentication. */
  username: string;
  /** `[passwords]` key holding the SMTP password. */
  password_key: string;
  /** Milliseconds the whole delivery may take. */
  timeout_ms: number;
  /** Alerts below this severity are not e-mailed. */
  min_severity: AlertSeverity;
  /** Cluster name shown in the subject and body. */
  cluster_name: string;
}

/** JSON Schema of `[plugins.alert_email]`. */
export const alertEmailConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Alerts e-mailed over SMTP with TLS (STARTTLS or implicit TLS), certificates verified.',
  properties: {
    host: { type: 'string', minLength: 1, description: 'SMTP server host name (checked against its certificate) or address.' },
    port: { type: 'integer', minimum: 1, maximum: 65_535, default: 587, description: 'SMTP port: 587 for submission with STARTTLS, 465 with secure = true.' },
    secure: {
      type: 'boolean',
      default: false,
      description: 'true: TLS from the first byte (SMTPS, port 465). false: plain connection upgraded with STARTTLS.',
    },
    starttls_required: {
      type: 'boolean',
      default: true,
      description:
        'With secure = false: refuse to send (FAIL) unless the server offers STARTTLS and the upgrade succeeds. false: STARTTLS when offered, otherwise the alert (and any password) travels unencrypted.',
    },
    ca_file: {
      type: 'string',
      default: '',
      description: "PEM file of certificate authorities trusted for the server's certificate in addition to the system ones (a private CA). Empty: system CAs only.",
    },
    from: { type: 'string', minLength: 3, description: 'Sender address, e.g. `HandyRep <handyrep@example.org>`.' },
    to: {
      type: ['array', 'string'],
      items: { type: 'string', minLength: 3 },
      minItems: 1,
      minLength: 3,
      description: 'Recipients: in the INI file one `to[] = address` line each, or one `to = a@example.org, b@example.org` line.',
    },
    username: { type: 'string', default: '', description: 'SMTP user name; empty: send without authentication.' },
    password_key: {
      type: 'string',
      minLength: 1,
      default: 'smtp_password',
      description: 'Key in [passwords] holding the SMTP password (needed when username is set).',
    },
    timeout_ms: {
      type: 'integer',
      minimum: 100,
      default: 10_000,
      description: 'Milliseconds the whole delivery (connect, TLS, authentication, message) may take; then it counts as failed.',
    },
    min_severity: minSeveritySchema('Least severe alert e-mailed: info, warning or critical.'),
    cluster_name: { type: 'string', default: '', description: 'Cluster name shown in the subject `[HandyRep <cluster_name>]` and the body.' },
  },
  required: ['host', 'from', 'to'],
  additionalProperties: false,
};
