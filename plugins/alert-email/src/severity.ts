import type { AlertSeverity, JsonSchema } from '@handyrep/plugin-sdk';

const RANK: Readonly<Record<AlertSeverity, number>> = { info: 0, warning: 1, critical: 2 };

/** True when `severity` is `min` or worse. */
export function atLeast(severity: AlertSeverity, min: AlertSeverity): boolean {
  // An unknown severity from a newer core is passed on rather than dropped.
  return (RANK[severity] ?? RANK.critical) >= RANK[min];
}

/** Schema of a `min_severity` key. */
export function minSeveritySchema(description: string): JsonSchema {
  return { type: 'string', enum: ['info', 'warning', 'critical'], default: 'info', description };
}
