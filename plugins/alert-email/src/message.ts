import type { Alert } from '@handyrep/plugin-sdk';

/** Subject and plain-text body of one alert e-mail. */
export interface AlertMessage {
  /** `[HandyRep <cluster>] <severity> <type>: <server>`. */
  subject: string;
  /** Plain text. */
  text: string;
}

/** Builds the e-mail for `alert`; `sender` names the HandyRep host in the body. */
export function alertMessage(alert: Alert, clusterName: string, sender: string): AlertMessage {
  const tag = clusterName === '' ? '[HandyRep]' : `[HandyRep ${clusterName}]`;
  const subject = `${tag} ${alert.severity} ${alert.type}: ${alert.server ?? 'cluster'}`;
  const rows: [string, string][] = [
    ['type', alert.type],
    ['severity', alert.severity],
    ['server', alert.server ?? '-'],
    ['cluster status', alert.cluster_status ?? '-'],
    ['time', new Date(alert.at).toISOString()],
    ['sent by', `HandyRep on ${sender}`],
  ];
  const text = [
    `HandyRep alert${clusterName === '' ? '' : ` for cluster ${clusterName}`}`,
    '',
    alert.message,
    '',
    ...rows.map(([key, value]) => `${`${key}:`.padEnd(16)}${value}`),
    '',
  ].join('\n');
  // Header injection is not possible (nodemailer encodes header values), but a newline would still garble the subject.
  return { subject: subject.replace(/[\r\n]+/g, ' '), text };
}
