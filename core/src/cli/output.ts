/** Renders rows as an aligned text table. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** Renders any API result for a person: tables for status, `key: value` lines otherwise. */
export function renderHuman(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.map((item) => renderHuman(item)).join('\n');
  const record = value as Record<string, unknown>;
  if ('cluster' in record && 'servers' in record) return renderStatus(record);
  return Object.entries(record)
    .map(([key, inner]) =>
      typeof inner === 'object' && inner !== null
        ? `${key}:\n${renderHuman(inner).replace(/^/gm, '  ')}`
        : `${key}: ${String(inner)}`,
    )
    .join('\n');
}

function renderStatus(status: Record<string, unknown>): string {
  const cluster = status['cluster'] as Record<string, unknown>;
  const servers = status['servers'] as Record<string, Record<string, unknown>>;
  const rows = Object.entries(servers).map(([name, server]) => [
    name,
    String(server['role']),
    String(server['hostname']),
    server['enabled'] ? 'yes' : 'no',
    `${String(server['status'])} (${String(server['status_no'])})`,
    String(server['status_ts'] || '-'),
    String(server['status_message'] || ''),
  ]);
  return [
    `cluster: ${String(cluster['status'])} (${String(cluster['status_no'])})${cluster['status_message'] ? ` — ${String(cluster['status_message'])}` : ''}`,
    '',
    renderTable(['server', 'role', 'host', 'enabled', 'status', 'checked', 'message'], rows),
  ].join('\n');
}
