/** Renders rows as an aligned text table. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

type Row = Record<string, unknown>;

function isRecord(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): boolean {
  return value === null || value === undefined || typeof value !== 'object';
}

/** A value in a table cell: '-' for nothing, so columns stay readable. */
function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s*\n\s*/g, ' ');
}

/** Milliseconds as "850 ms" or "12.3 s". */
export function formatDuration(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function isReturnDictionary(record: Row): boolean {
  return record['result'] === 'SUCCESS' || record['result'] === 'FAIL';
}

function isStatusDictionary(record: Row): boolean {
  return isRecord(record['cluster']) && isRecord(record['servers']) && !isReturnDictionary(record);
}

/** get_server_info's `{ name: definition }` (every value has hostname and role). */
function isServerInfo(record: Row): boolean {
  const values = Object.values(record);
  return values.length > 0 && values.every((value) => isRecord(value) && 'hostname' in value && 'role' in value);
}

function isStepList(value: unknown): value is Row[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => isRecord(item) && 'step' in item && 'result' in item);
}

/** Every value a record of scalars: shown as one table row per entry. */
function isRecordOfRows(value: unknown): value is Record<string, Row> {
  if (!isRecord(value)) return false;
  const values = Object.values(value);
  return values.length > 0 && values.every((inner) => isRecord(inner) && Object.values(inner).every(isScalar));
}

/** A list of records of scalars (restart_cluster's steps, its skipped servers): shown as a table. */
function isListOfRows(value: unknown): value is Row[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => isRecord(item) && Object.values(item).every(isScalar));
}

function columnsOf(rows: readonly Row[]): string[] {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  // result first and details last read best, whatever order the dictionaries had.
  const rank = (key: string): number => (key === 'result' ? 0 : key === 'details' ? 2 : 1);
  return columns.sort((a, b) => rank(a) - rank(b));
}

/** A failover's steps: step, result, duration, details. */
export function renderSteps(steps: readonly Row[]): string {
  return renderTable(
    ['step', 'result', 'duration', 'details'],
    steps.map((step) => [cell(step['step']), cell(step['result']), formatDuration(step['duration_ms']), cell(step['details'])]),
  );
}

function renderRecordOfRows(record: Record<string, Row>, firstColumn: string): string {
  const rows = Object.values(record);
  const columns = columnsOf(rows);
  return renderTable([firstColumn, ...columns], Object.entries(record).map(([name, row]) => [name, ...columns.map((column) => cell(row[column]))]));
}

/** get_server_info: one column per server, one row per property. */
export function renderServerInfo(servers: Record<string, Row>): string {
  const names = Object.keys(servers);
  const properties = columnsOf(Object.values(servers)).filter((key) => key !== 'name');
  return renderTable(['property', ...names], properties.map((key) => [key, ...names.map((name) => cell(servers[name]?.[key]))]));
}

/**
 * get_status: the cluster line, the synchronous standby set and a pending
 * switchover when there are, a table of servers (with each replica's lag) and,
 * when the master has any, one of its replication slots.
 */
export function renderStatus(status: Row): string {
  const cluster = status['cluster'] as Row;
  const servers = status['servers'] as Record<string, Row>;
  const rows = Object.entries(servers).map(([name, server]) => [
    name,
    String(server['role']),
    String(server['hostname']),
    server['enabled'] ? 'yes' : 'no',
    `${String(server['status'])} (${String(server['status_no'])})`,
    // Empty, not 0, when unmeasured: a replica without a recent measurement is not known to be caught up.
    typeof server['lag_mb'] === 'number' ? String(server['lag_mb']) : '',
    String(server['status_ts'] || '-'),
    String(server['status_message'] || ''),
  ]);
  const slots = Array.isArray(cluster['replication_slots']) ? (cluster['replication_slots'] as Row[]) : [];
  const slotRows = slots.map((slot) => [String(slot['slot_name']), String(slot['server'] ?? '(none)'), slot['active'] ? 'yes' : 'no', String(slot['retained_wal_bytes'] ?? '-')]);
  const scheduled = isRecord(cluster['scheduled_switchover']) ? cluster['scheduled_switchover'] : undefined;
  return [
    `cluster: ${String(cluster['status'])} (${String(cluster['status_no'])})${cluster['status_message'] ? ` — ${String(cluster['status_message'])}` : ''}`,
    ...(typeof cluster['synchronous_standbys'] === 'string' ? [`synchronous standbys: ${cluster['synchronous_standbys']}`] : []),
    ...(scheduled ? [`scheduled switchover: ${String(scheduled['master'])} → ${cell(scheduled['newmaster'] ?? 'best candidate')} at ${String(scheduled['at'])} (cancel_switchover cancels it)`] : []),
    '',
    renderTable(['server', 'role', 'host', 'enabled', 'status', 'lag MB', 'checked', 'message'], rows),
    ...(slotRows.length === 0 ? [] : ['', renderTable(['slot', 'server', 'active', 'retained WAL bytes'], slotRows)]),
  ].join('\n');
}

const indent = (text: string): string => text.replace(/^/gm, '  ');

/** `key: value` lines; nested values indented below their key, steps and uniform records as tables. */
function renderFields(record: Row): string {
  return Object.entries(record)
    .map(([key, value]) => {
      if (isScalar(value)) return `${key}: ${value === undefined ? '' : String(value)}`;
      if (isStepList(value)) return `${key}:\n${indent(renderSteps(value))}`;
      if (isRecordOfRows(value)) return `${key}:\n${indent(renderRecordOfRows(value, 'name'))}`;
      if (isListOfRows(value)) {
        const columns = columnsOf(value);
        return `${key}:\n${indent(renderTable(columns, value.map((row) => columns.map((column) => cell(row[column])))))}`;
      }
      if (Array.isArray(value) && value.length === 0) return `${key}: (none)`;
      return `${key}:\n${indent(renderHuman(value))}`;
    })
    .join('\n');
}

/** A return dictionary: `RESULT: details`, then the other keys. */
export function renderReturnDictionary(record: Row): string {
  const details = typeof record['details'] === 'string' ? record['details'] : '';
  const rest = Object.fromEntries(Object.entries(record).filter(([key]) => key !== 'result' && key !== 'details'));
  const head = `${String(record['result'])}${details === '' ? '' : `: ${details}`}`;
  return Object.keys(rest).length === 0 ? head : `${head}\n${renderFields(rest)}`;
}

/**
 * Renders any API result for a person: get_status and get_server_info as
 * tables, return dictionaries as `RESULT: details` plus their other keys
 * (failover steps as a table), read_log as lines, other values as `key: value`.
 */
export function renderHuman(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '(none)';
    if (value.every(isScalar)) return value.map((item) => String(item)).join('\n');
    if (isStepList(value)) return renderSteps(value);
    return value.map((item) => renderHuman(item)).join('\n');
  }
  const record = value as Row;
  if (isStatusDictionary(record)) return renderStatus(record);
  if (isReturnDictionary(record)) return renderReturnDictionary(record);
  if (isServerInfo(record)) return renderServerInfo(record as Record<string, Row>);
  if (Object.keys(record).length === 0) return '(none)';
  return renderFields(record);
}
