// HandyRep dashboard (served at /dashboard.js, loaded by dashboard.html). Text from the
// daemon is only ever set with textContent / text nodes, never as HTML.
(() => {
  'use strict';

  const REFRESH_MS = 5000;
  const READ_TIMEOUT_MS = 8000;
  const LOG_LINES = 20;
  const MAX_RESULTS = 6;
  const SERVER_STATUSES = ['unknown', 'healthy', 'lagged', 'warning', 'unavailable', 'down'];

  const $ = (id) => document.getElementById(id);

  /**
   * Creates an element. Attributes are set with setAttribute, children are
   * nodes or strings (appended as text nodes): no data ever becomes markup.
   */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = String(value);
      else if (name === 'hidden') node.hidden = true;
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  const statusClass = (name) => `st-${SERVER_STATUSES.includes(name) ? name : 'unknown'}`;
  const pad = (n) => String(n).padStart(2, '0');
  const utcClock = (date) => `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} UTC`;

  /** `YYYY-MM-DD HH:MM:SS` (UTC, the API's format) as a Date, or null. */
  function parseStatusTs(text) {
    if (typeof text !== 'string' || !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(text)) return null;
    const date = new Date(`${text.replace(' ', 'T')}Z`);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function ago(date) {
    const seconds = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
    if (seconds < 2) return 'just now';
    if (seconds < 120) return `${seconds} s ago`;
    const minutes = Math.round(seconds / 60);
    if (minutes < 120) return `${minutes} min ago`;
    const hours = Math.round(minutes / 60);
    return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
  }

  /** A span whose "… ago" text the ticker keeps current (updated in place, no re-render). */
  function ageSpan(date) {
    return el('span', { class: 'age', 'data-time': date ? String(date.getTime()) : null }, date ? ago(date) : '');
  }

  function tickAges() {
    for (const span of document.querySelectorAll('[data-time]')) {
      span.textContent = ago(new Date(Number(span.getAttribute('data-time'))));
    }
    renderRefreshed();
  }

  // ---- HTTP ----

  /** One call; resolves with status and parsed JSON, rejects only when nothing answered. */
  async function request(path, { method = 'GET', body, timeoutMs } = {}) {
    const controller = new AbortController();
    const timer = timeoutMs ? setTimeout(() => controller.abort(), timeoutMs) : undefined;
    try {
      const response = await fetch(path, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'same-origin',
        signal: controller.signal,
      });
      const text = await response.text();
      let json;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, ok: response.ok, json, text };
    } catch (err) {
      if (err && err.name === 'AbortError') throw new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`);
      throw new Error(`cannot reach HandyRep (${err && err.message ? err.message : String(err)})`);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  const isReturnDictionary = (value) => typeof value === 'object' && value !== null && (value.result === 'SUCCESS' || value.result === 'FAIL');
  const detailsOf = (value) => (isReturnDictionary(value) && typeof value.details === 'string' ? value.details : '');

  /** A read that must succeed: throws with a readable message otherwise. */
  async function read(path) {
    const answer = await request(path, { timeoutMs: READ_TIMEOUT_MS });
    const name = path.split('?')[0];
    if (answer.status === 401) throw new Error(`${name}: the credentials were refused (HTTP 401); reload the page to sign in again`);
    if (!answer.ok) throw new Error(`${name} answered HTTP ${answer.status}${detailsOf(answer.json) ? `: ${detailsOf(answer.json)}` : ''}`);
    if (isReturnDictionary(answer.json) && answer.json.result === 'FAIL') throw new Error(`${name} failed: ${detailsOf(answer.json)}`);
    return answer.json;
  }

  // ---- state ----

  let data = null; // { status, log, master }
  let lastGood = null; // Date of the last complete refresh
  let failure = null; // { since: Date, message }
  let access = 'unknown'; // 'admin' | 'read' | 'unknown'
  let busy = false; // an action from this page is running
  let refreshing = false;
  let refreshTimer;

  // ---- access ----

  /**
   * Finds out up front whether these credentials may act, without acting:
   * GET on an action is checked for credentials first and then refused
   * with 405 (use POST) for admin users, 403 for read-only ones.
   */
  async function detectAccess() {
    try {
      const answer = await request('/pause', { timeoutMs: READ_TIMEOUT_MS });
      if (answer.status === 405) setAccess('admin');
      else if (answer.status === 403) setAccess('read');
    } catch {
      // Unknown for now: buttons stay, a 403 on the first action settles it.
    }
  }

  function setAccess(level) {
    if (access === level) return;
    access = level;
    document.body.classList.toggle('read-only', level === 'read');
    const label = $('access');
    label.textContent = level === 'admin' ? 'Access: admin' : level === 'read' ? 'Access: read-only' : 'Access: unknown';
    label.classList.toggle('read-only', level === 'read');
    const banner = $('readonly-banner');
    banner.hidden = level !== 'read';
    banner.textContent = level === 'read'
      ? 'Read-only access: these credentials can watch the cluster and run checks, but not change anything. Actions are hidden; sign in with admin credentials to act.'
      : '';
    if (data) render();
  }

  // ---- refresh ----

  async function refresh() {
    if (refreshing) return;
    refreshing = true;
    clearTimeout(refreshTimer);
    try {
      const [status, log, master] = await Promise.all([read('/get_status'), read(`/read_log?numlines=${LOG_LINES}`), read('/get_master_name')]);
      if (typeof status !== 'object' || status === null || typeof status.cluster !== 'object' || typeof status.servers !== 'object') {
        throw new Error('get_status answered something that is not a status dictionary');
      }
      data = { status, log: Array.isArray(log) ? log : [], master: typeof master === 'string' ? master : null };
      lastGood = new Date();
      failure = null;
      if (access === 'unknown') await detectAccess();
      render();
    } catch (err) {
      failure = { since: failure ? failure.since : new Date(), message: err && err.message ? err.message : String(err) };
    } finally {
      refreshing = false;
      renderHealthOfPage();
      refreshTimer = setTimeout(refresh, REFRESH_MS);
    }
  }

  function renderRefreshed() {
    const line = $('refreshed');
    if (!lastGood) line.textContent = failure ? 'Not loaded yet' : 'Loading…';
    else line.textContent = `Last refreshed ${utcClock(lastGood)} (${ago(lastGood)}) · every ${REFRESH_MS / 1000} s`;
  }

  function renderHealthOfPage() {
    document.body.classList.toggle('stale', Boolean(failure));
    const banner = $('error-banner');
    banner.hidden = !failure;
    banner.textContent = failure
      ? `HandyRep is not answering since ${utcClock(failure.since)}: ${failure.message}. Retrying every ${REFRESH_MS / 1000} s. ` +
        (lastGood ? `Everything below is STALE: last good data from ${utcClock(lastGood)}.` : 'No data has been loaded yet.')
      : '';
    renderRefreshed();
  }

  // ---- rendering ----

  function render() {
    if (!data) return;
    renderCluster();
    renderServers();
    renderSlots();
    renderFailoverTargets();
    renderLog();
    renderButtons();
  }

  function renderCluster() {
    const cluster = data.status.cluster;
    const name = typeof cluster.status === 'string' ? cluster.status : 'unknown';
    const banner = $('cluster');
    banner.className = statusClass(name);
    $('cluster-status').textContent = `${name.toUpperCase()}${typeof cluster.status_no === 'number' ? ` (${cluster.status_no})` : ''}`;
    $('cluster-message').textContent = cluster.status_message || (name === 'unknown' ? 'No checks have run yet.' : '');
    $('master-name').textContent = data.master ?? 'none (no enabled master)';
    const ts = parseStatusTs(cluster.status_ts);
    $('cluster-ts').replaceChildren(ts ? `${cluster.status_ts} UTC ` : 'never', ts ? '(' : '', ts ? ageSpan(ts) : '', ts ? ')' : '');
    const paused = $('paused');
    const since = typeof cluster.paused_since === 'string' ? cluster.paused_since : '';
    paused.hidden = since === '';
    paused.textContent = since
      ? `Paused since ${since} UTC: maintenance mode. HandyRep keeps checking but takes no automatic action (no automatic failover) until resumed.`
      : '';
    $('pause-button').hidden = since !== '';
    $('resume-button').hidden = since === '';
    const sync = typeof cluster.synchronous_standbys === 'string' ? cluster.synchronous_standbys : '';
    $('sync-fact').hidden = sync === '';
    $('sync-standbys').textContent = sync;
    const scheduled = cluster.scheduled_switchover && typeof cluster.scheduled_switchover.at === 'string' ? cluster.scheduled_switchover : null;
    $('scheduled').hidden = !scheduled;
    $('scheduled').textContent = scheduled
      ? `Switchover scheduled for ${scheduled.at.slice(0, 19).replace('T', ' ')} UTC: ${String(scheduled.master)} → ${scheduled.newmaster ? String(scheduled.newmaster) : 'the best replica at the time'}. It runs then only if the cluster is healthy; otherwise it is cancelled with an alert.`
      : '';
    $('cancel-switchover-button').hidden = !scheduled;
  }

  /** Per-server actions that make sense for its role and state. */
  function serverActions(server) {
    const role = String(server.role);
    const database = role === 'master' || role === 'replica';
    const actions = [];
    if (server.enabled) actions.push('verify_server');
    if (!server.enabled) {
      if (role !== 'master') actions.push('enable');
      if (database) actions.push('rejoin');
      return actions;
    }
    if (role === 'master') return [...actions, 'restart'];
    if (role === 'replica') return [...actions, 'startup', 'shutdown', 'restart', 'remaster', 'reclone', 'promote', 'disable'];
    return [...actions, 'disable'];
  }

  const rows = new Map(); // name -> { signature, row }

  function renderServers() {
    const tbody = $('servers').tBodies[0];
    const servers = data.status.servers;
    const names = Object.keys(servers);
    if (names.length === 0) {
      rows.clear();
      tbody.replaceChildren(el('tr', {}, el('td', { colspan: '8', class: 'empty' }, 'No servers are defined.')));
      return;
    }
    for (const name of [...rows.keys()]) if (!names.includes(name)) rows.delete(name);
    const ordered = [];
    for (const name of names) {
      const server = servers[name];
      // Rows are rebuilt only when they change, so focus and clicks survive a refresh.
      const signature = JSON.stringify([server, data.master, access, busy]);
      let entry = rows.get(name);
      if (!entry || entry.signature !== signature) {
        entry = { signature, row: serverRow(name, server) };
        rows.set(name, entry);
      }
      ordered.push(entry.row);
    }
    const current = [...tbody.children];
    if (current.length !== ordered.length || current.some((row, i) => row !== ordered[i])) {
      // Replace only the rows that differ, keeping unchanged nodes in place.
      ordered.forEach((row, i) => {
        const at = tbody.children[i];
        if (at !== row) tbody.insertBefore(row, at ?? null);
      });
      while (tbody.children.length > ordered.length) tbody.lastElementChild.remove();
    }
  }

  /** Bytes as the largest unit that keeps the number at or above 1. */
  function formatBytes(bytes) {
    const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  }

  /** The master's replication slots (use_slots), hidden when get_status has none to show. */
  function renderSlots() {
    const slots = Array.isArray(data.status.cluster.replication_slots) ? data.status.cluster.replication_slots : null;
    $('slots-panel').hidden = slots === null;
    if (slots === null) return;
    const tbody = $('slots').tBodies[0];
    if (slots.length === 0) {
      tbody.replaceChildren(el('tr', {}, el('td', { colspan: '4', class: 'empty' }, 'No slots on the master.')));
      return;
    }
    tbody.replaceChildren(...slots.map((slot) => el('tr', { 'data-slot': String(slot.slot_name) },
      el('th', { scope: 'row', class: 'mono' }, String(slot.slot_name)),
      el('td', {}, slot.server ? String(slot.server) : el('span', { class: 'empty', title: 'not the slot of any server HandyRep knows: never dropped by HandyRep' }, 'none')),
      el('td', {}, slot.active ? 'yes' : 'no'),
      el('td', { class: 'mono' }, typeof slot.retained_wal_bytes === 'number' ? formatBytes(slot.retained_wal_bytes) : '–'),
    )));
  }

  function serverRow(name, server) {
    const status = typeof server.status === 'string' ? server.status : 'unknown';
    const isCurrentMaster = data.master === name;
    const role = String(server.role ?? '');
    const ts = parseStatusTs(server.status_ts);
    let lag;
    if (role !== 'replica') lag = el('span', { class: 'empty', title: 'lag applies to replicas' }, el('span', { 'aria-hidden': 'true' }, '–'), el('span', { class: 'visually-hidden' }, 'not applicable'));
    else if (typeof server.lag_mb === 'number') lag = `${server.lag_mb} MB`;
    else lag = el('span', { class: 'empty', title: 'measured on the master at each verification; none in the last 10 minutes' }, 'not measured');
    const actionCell = el('td', { class: 'actions', 'data-col': 'actions' });
    for (const key of serverActions(server)) actionCell.append(actionButton(key, name, server));
    return el('tr', { 'data-server': name, class: server.enabled ? null : 'disabled' },
      el('th', { scope: 'row', 'data-col': 'name' }, name, el('span', { class: 'host' }, String(server.hostname ?? ''))),
      el('td', { 'data-col': 'role' }, role, isCurrentMaster ? el('span', { class: 'current' }, 'current') : null),
      el('td', { 'data-col': 'enabled' }, server.enabled ? 'yes' : 'no'),
      el('td', { 'data-col': 'status' }, el('span', { class: `badge ${statusClass(status)}` }, `${status} (${typeof server.status_no === 'number' ? server.status_no : '?'})`)),
      el('td', { 'data-col': 'lag' }, lag),
      el('td', { 'data-col': 'last-check', class: 'mono' }, ts ? server.status_ts : 'never', ts ? ageSpan(ts) : null),
      el('td', { 'data-col': 'message', class: 'message' }, String(server.status_message ?? '')),
      actionCell,
    );
  }

  function renderFailoverTargets() {
    const select = $('failover-target');
    const chosen = select.value;
    const replicas = Object.entries(data.status.servers).filter(([, server]) => server.enabled && server.role === 'replica').map(([name]) => name);
    const wanted = ['', ...replicas];
    const have = [...select.options].map((option) => option.value);
    if (wanted.join('\n') === have.join('\n')) return;
    const first = select.options[0];
    select.replaceChildren(first, ...replicas.map((name) => new Option(name, name)));
    select.value = replicas.includes(chosen) ? chosen : '';
  }

  function renderLog() {
    const lines = data.log;
    $('log-empty').hidden = lines.length > 0;
    $('log').replaceChildren(...lines.map((line) => {
      const text = String(line);
      const match = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([A-Z0-9]+) ([\s\S]*)$/.exec(text);
      if (!match) return el('li', {}, text);
      return el('li', {}, el('span', { class: 'log-time' }, match[1]), ' ',
        el('span', { class: `lvl lvl-${match[2].toLowerCase()}` }, match[2]), ' ', match[3]);
    }));
  }

  function renderButtons() {
    for (const button of document.querySelectorAll('button[data-action]')) button.disabled = busy;
  }

  // ---- actions ----

  const failoverTarget = () => $('failover-target').value;

  /**
   * Every action the page offers: the API function, its body, and what the
   * confirmation says. `admin: false` marks checks that read-only users may run.
   */
  const ACTIONS = {
    verify_server: {
      label: 'Verify', admin: false, body: (name) => ({ servername: name }),
      text: (name) => `Runs a full check of ${name} (connection, SSH, replication) and updates its status. Nothing on the server changes.`,
    },
    enable: {
      label: 'Enable', body: (name) => ({ servername: name }),
      text: (name) => `Marks ${name} enabled, so HandyRep checks and manages it again (including as a failover candidate), then verifies it.`,
    },
    disable: {
      label: 'Disable', danger: true, body: (name) => ({ servername: name }),
      text: (name) => `HandyRep stops checking ${name} and no longer uses it for failover, and shuts its PostgreSQL down.`,
    },
    startup: { label: 'Start', body: (name) => ({ servername: name }), text: (name) => `Starts PostgreSQL on ${name}.` },
    shutdown: {
      label: 'Shut down', danger: true, body: (name) => ({ servername: name }),
      text: (name) => `Stops PostgreSQL on ${name}. Its client connections are cut.`,
    },
    restart: {
      label: 'Restart', danger: true, body: (name) => ({ servername: name }),
      text: (name, server) => (server && server.role === 'master'
        ? `Restarts PostgreSQL on the master ${name}. Writes fail until it is back.`
        : `Restarts PostgreSQL on ${name}. Its client connections are cut.`),
    },
    remaster: {
      label: 'Remaster', body: (name) => ({ replica: name }),
      text: (name) => `Points ${name} at the current master${data && data.master ? ` (${data.master})` : ''} and restarts its replication.`,
    },
    reclone: {
      spec: 'clone', label: 'Reclone', danger: true, body: (name) => ({ replicaserver: name, reclone: true }),
      text: (name) => `Stops ${name}, replaces its data directory with a fresh copy of the master, and starts it again.`,
      warning: 'Its current data directory is deleted. On a large database this takes a long time.',
    },
    promote: {
      label: 'Promote', danger: true, body: (name) => ({ newmaster: name }),
      text: (name) => `Promotes ${name} to a writable master, and nothing else: the current master is not stopped, the other replicas are not remastered, the connection proxy is not changed.`,
      warning: 'With the current master running this makes two writable masters. For a planned switchover use Manual failover instead.',
    },
    rejoin: {
      label: 'Rejoin', danger: true, body: (name) => ({ servername: name }),
      text: (name) => `Brings ${name} back as a replica of the current master: stops it if it runs, rewinds it (or reclones it, replacing its data directory), starts it and enables it.`,
    },
    manual_failover: {
      label: 'Fail over', danger: true, cluster: true,
      body: () => (failoverTarget() ? { newmaster: failoverTarget() } : {}),
      target: () => failoverTarget() || 'the best replica',
      text: () => `Makes ${failoverTarget() || 'the replica HandyRep selects'} the new master${data && data.master ? ` in place of ${data.master}` : ''}: the old master is stopped and fenced, the other replicas are remastered, the connection proxy is repointed.`,
      warning: 'Clients lose their connections to the current master; writes are refused until the new master is up.',
    },
    cancel_switchover: {
      label: 'Cancel', cluster: true, body: () => ({}), target: () => 'the scheduled switchover',
      text: () => 'Removes the scheduled switchover: it will not run. The current master stays.',
    },
    pause: {
      label: 'Pause', cluster: true, body: () => ({}), target: () => 'automatic actions',
      text: () => 'Maintenance mode: HandyRep keeps checking the servers but takes no automatic action, including no automatic failover, until resumed.',
    },
    resume: {
      label: 'Resume', cluster: true, body: () => ({}), target: () => 'automatic actions',
      text: () => 'Leaves maintenance mode: automatic failover and the other automatic actions are on again.',
    },
    connection_proxy_init: {
      label: 'Push proxy configuration', cluster: true, body: () => ({}), target: () => 'to every proxy',
      text: () => `Writes the connection proxy configuration, pointing at the current master${data && data.master ? ` (${data.master})` : ''}, to the proxies and reloads them.`,
    },
    verify_all: {
      label: 'Verify', admin: false, cluster: true, body: () => ({}), target: () => 'all servers',
      text: () => 'Runs a full check of every enabled server and updates the statuses. Nothing on the servers changes.',
    },
  };

  const isAdmin = (key) => ACTIONS[key].admin !== false;

  function actionButton(key, name, server) {
    const action = ACTIONS[key];
    const admin = isAdmin(key);
    if (admin && access === 'read') return null;
    return el('button', {
      type: 'button',
      class: action.danger ? 'danger' : null,
      'data-action': key,
      'data-server': name,
      'data-admin': String(admin),
      'aria-label': `${action.label} ${name}…`,
      disabled: busy,
    }, `${action.label}…`);
  }

  /** The modal confirmation; resolves true only when the confirm button is pressed. */
  function confirmAction({ title, text, warning, okLabel, danger }) {
    const dialog = $('confirm');
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    $('confirm-warning').textContent = warning || '';
    $('confirm-warning').hidden = !warning;
    const ok = $('confirm-ok');
    ok.textContent = okLabel;
    ok.classList.toggle('danger', Boolean(danger));
    return new Promise((resolve) => {
      let settled = false;
      const finish = (confirmed) => {
        if (settled) return;
        settled = true;
        ok.onclick = null;
        $('confirm-cancel').onclick = null;
        dialog.onclose = null;
        if (dialog.open) dialog.close();
        resolve(confirmed);
      };
      ok.onclick = () => finish(true);
      $('confirm-cancel').onclick = () => finish(false);
      dialog.onclose = () => finish(false); // Escape
      dialog.showModal();
      $('confirm-cancel').focus(); // the safe choice has the focus
    });
  }

  /** An extra field of a return dictionary as text; epoch milliseconds (`paused_since`, `..._at`) as UTC times. */
  function showValue(key, value) {
    if (typeof value === 'number' && /(_since|_at)$/.test(key) && value > 1e12 && value < 1e14) {
      return `${new Date(value).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  function addResult(heading) {
    const item = el('li', { class: 'running' });
    const head = el('div', { class: 'result-head' }, heading);
    const details = el('p', { class: 'result-details' }, 'running…');
    item.append(head, details);
    $('no-results').hidden = true;
    const list = $('results');
    list.prepend(item);
    while (list.children.length > MAX_RESULTS) list.lastElementChild.remove();
    const started = Date.now();
    const finish = (state, headText, detailText, extra) => {
      item.className = state;
      head.textContent = `${heading}: ${headText} (${utcClock(new Date())}, ${((Date.now() - started) / 1000).toFixed(1)} s)`;
      details.textContent = detailText;
      if (extra && Object.keys(extra).length > 0) {
        const list = el('dl', { class: 'result-extra' });
        for (const [key, value] of Object.entries(extra)) {
          list.append(el('dt', {}, key), el('dd', {}, showValue(key, value)));
        }
        item.append(list);
      }
    };
    return finish;
  }

  async function runAction(key, name) {
    const action = ACTIONS[key];
    if (!action || busy) return;
    const server = name && data ? data.status.servers[name] : undefined;
    const target = action.cluster ? action.target() : name;
    const confirmed = await confirmAction({
      title: `${action.label} ${target}?`,
      text: action.text(name, server),
      warning: action.warning,
      okLabel: `${action.label} ${target}`,
      danger: action.danger,
    });
    if (!confirmed) return;
    const body = action.body(name);
    const finish = addResult(`${action.label} ${target}`);
    busy = true;
    renderButtons();
    if (data) renderServers();
    try {
      const answer = await request(`/${action.spec || key}`, { method: 'POST', body });
      const json = answer.json;
      if (answer.status === 403) {
        setAccess('read');
        finish('failed', 'REFUSED (read-only access)', `These credentials have read-only access; ${action.label.toLowerCase()} needs admin credentials.${detailsOf(json) ? ` HandyRep said: ${detailsOf(json)}` : ''}`);
      } else if (answer.status === 401) {
        finish('failed', 'REFUSED (HTTP 401)', 'The credentials were refused; reload the page to sign in again.');
      } else if (isReturnDictionary(json)) {
        const { result, details, ...extra } = json;
        finish(result === 'SUCCESS' ? 'ok' : 'failed', result + (answer.ok ? '' : ` (HTTP ${answer.status})`), String(details ?? ''), extra);
      } else {
        finish(answer.ok ? 'ok' : 'failed', `HTTP ${answer.status}`, answer.text.slice(0, 2000));
      }
    } catch (err) {
      finish('failed', 'NO ANSWER', `${err && err.message ? err.message : String(err)}. The action may or may not have run; check the log and the statuses.`);
    } finally {
      busy = false;
      if (data) render();
      else renderButtons();
      void refresh();
    }
  }

  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    if (!button || button.disabled) return;
    void runAction(button.getAttribute('data-action'), button.getAttribute('data-server') || undefined);
  });
  $('refresh-now').addEventListener('click', () => void refresh());

  setInterval(tickAges, 1000);
  void refresh();
})();
