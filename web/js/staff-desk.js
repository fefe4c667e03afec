// Staff: the check-in desk. Search by 工号 or 姓名 (Enter acts on a single match), check in,
// 补签到 with a reason once the window has closed, 中途退场. The list comes from the read-only
// `list_delegates` view and follows attendance events live.

import { clear, data, formatTime, h, rebuild } from './dom.js';
import { delegateType, t } from './i18n.js';
import { checkInWindow } from './state.js';

const SHOWN_MAX = 200;

// Sign-in waits (congress.domain.sign_in): who has to wait before signing in again, from where,
// and a button to clear it once staff have seen the person. Polled: failures are not events.
const WAITS_REFRESH_MS = 15000;

function mountWaits(live) {
  let fetched = null; // {waits, addresses, at: Date.now() when fetched}
  let timer = null;
  const list = h('div', { class: 'table-wrap', id: 'sign-in-waits-list' });
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });

  function left(seconds) {
    return Math.max(0, seconds - Math.floor((Date.now() - fetched.at) / 1000));
  }

  let loading = false;
  async function load() {
    loading = true;
    try {
      const result = await live.command('sign_in_waits');
      fetched = { ...result, at: Date.now() };
      render();
    } finally {
      loading = false;
    }
  }

  async function clearWait(args, who) {
    status.className = 'form-status';
    status.textContent = t('common.sending');
    try {
      await live.command('clear_sign_in_wait', args);
      status.className = 'form-status ok';
      status.textContent = t('desk.waits_cleared', { who });
      await load();
    } catch (error) {
      status.className = 'form-status bad';
      status.textContent = t('common.error', { message: error.message });
    }
  }

  function waitText(seconds) {
    const n = left(seconds);
    return n > 0 ? t('desk.waits_seconds', { n }) : t('desk.waits_ready');
  }

  function render() {
    if (!fetched) {
      clear(list, h('p', { class: 'muted' }, t('common.loading')));
      return;
    }
    const { waits, addresses } = fetched;
    clear(list,
      addresses.map((a) => h('p', { class: 'notice warn', dataset: { address: a.address } },
        t('desk.waits_address', { address: a.address, accounts: a.accounts, failures: a.failures, n: left(a.wait_seconds) }), ' ',
        h('button', { type: 'button', class: 'small', on: { click: () => clearWait({ address: a.address }, a.address) } },
          t('desk.waits_clear_address')))),
      waits.length === 0 ? h('p', { class: 'muted', id: 'sign-in-waits-none' }, t('desk.waits_none'))
        : h('table', { class: 'desk-table', id: 'sign-in-waits-table' },
          h('thead', {}, h('tr', {}, ['who', 'name', 'address', 'failures', 'wait', 'actions']
            .map((k) => h('th', { scope: 'col' }, t(k === 'actions' ? 'desk.col_actions' : `desk.waits_col_${k}`))))),
          h('tbody', {}, waits.map((w) => {
            const who = w.employee_id || w.login;
            const args = { ...(w.employee_id ? { employee_id: w.employee_id } : { login: w.login }), address: w.address };
            return h('tr', { dataset: { who, address: w.address } },
              h('td', {}, who),
              h('th', { scope: 'row' }, w.name ? data(w.name) : h('span', { class: 'muted' }, t('desk.waits_unknown'))),
              h('td', {}, w.address),
              h('td', {}, String(w.failures)),
              h('td', { class: 'wait-left', dataset: { seconds: w.wait_seconds } }, waitText(w.wait_seconds)),
              h('td', {}, h('button', { type: 'button', class: 'small primary', on: { click: () => clearWait(args, who) } },
                t('desk.waits_clear'))));
          }))));
  }

  // Count the waits down between fetches; fetch again now and then; stop once the view is gone.
  function tick() {
    if (!section.isConnected) {
      clearInterval(timer);
      timer = null;
      return;
    }
    if (!loading && (!fetched || Date.now() - fetched.at > WAITS_REFRESH_MS)) load().catch(() => {});
    for (const cell of list.querySelectorAll('td.wait-left')) cell.textContent = waitText(Number(cell.dataset.seconds));
  }

  const section = h('section', { class: 'card', id: 'sign-in-waits', 'aria-labelledby': 'sign-in-waits-title' },
    h('div', { class: 'row' },
      h('h3', { id: 'sign-in-waits-title', class: 'grow' }, t('desk.waits_title')),
      h('button', { type: 'button', class: 'small', id: 'sign-in-waits-refresh', on: { click: () => load().catch(() => {}) } },
        t('desk.refresh'))),
    h('p', { class: 'hint' }, t('desk.waits_intro')),
    status, list);
  render();
  load().catch(() => {});
  timer = setInterval(tick, 1000);
  return section;
}

export function mountDesk(root, { store, live }) {
  let delegates = null;
  let built = false;
  let loadedOnce = false;
  let asking = null; // {delegate_id, kind: 'late' | 'out'} when a reason is being asked
  const state = { query: '', group: '' };
  let tableWrap;
  let countLine;
  let note;
  let statusLine;

  async function load() {
    const result = await live.command('list_delegates');
    delegates = result.delegates;
    renderTable();
  }

  function matches(d) {
    const q = state.query.trim().toLowerCase();
    if (state.group && String(d.group_id) !== state.group) return false;
    return !q || d.employee_id.toLowerCase().includes(q) || d.name.includes(state.query.trim());
  }

  function statusText(d) {
    if (d.is_checked_in) {
      return [t('desk.checked_in', { time: formatTime(d.checked_in_at) }),
        d.method === 'desk' ? ` ${t('desk.checked_in_desk')}` : '',
        d.reason ? h('div', { class: 'hint' }, t('desk.late', { reason: d.reason })) : null];
    }
    if (d.checked_out_at) {
      return [t('desk.checked_out', { time: formatTime(d.checked_out_at) }),
        d.checkout_reason ? h('div', { class: 'hint' }, d.checkout_reason) : null];
    }
    return t('desk.not_checked_in');
  }

  async function act(d, op, args) {
    statusLine.className = 'form-status';
    statusLine.textContent = t('common.sending');
    try {
      await live.command(op, { employee_id: d.employee_id, ...args });
      asking = null;
      statusLine.className = 'form-status ok';
      statusLine.textContent = `${d.name}（${d.employee_id}）：${op === 'check_out' ? t('desk.check_out') : t('desk.checked_in', { time: '' }).trim()}`;
      renderTable();
      document.getElementById('desk-search')?.focus();
      document.getElementById('desk-search')?.select();
    } catch (error) {
      statusLine.className = 'form-status bad';
      statusLine.textContent = t('common.error', { message: error.message });
    }
  }

  function reasonForm(d, kind) {
    const input = h('input', { type: 'text', id: `reason-${d.delegate_id}`, required: kind === 'late', autocomplete: 'off' });
    const form = h('form', { class: 'inline-form' },
      h('label', { for: input.id }, t(kind === 'late' ? 'desk.reason_late' : 'desk.reason_out')), input,
      h('button', { type: 'submit', class: 'primary small' }, t('common.confirm')),
      h('button', { type: 'button', class: 'small', on: { click: () => { asking = null; renderTable(); } } }, t('common.cancel')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (kind === 'late') act(d, 'check_in_at_desk', { reason: input.value.trim() });
      else act(d, 'check_out', { reason: input.value.trim() || null });
    });
    queueMicrotask(() => input.focus());
    return form;
  }

  function actions(d) {
    if (asking?.delegate_id === d.delegate_id) return reasonForm(d, asking.kind);
    const isClosed = checkInWindow(store.state) === 'closed';
    if (d.is_checked_in) {
      return h('button', { type: 'button', class: 'small', id: `out-${d.delegate_id}`,
        on: { click: () => { asking = { delegate_id: d.delegate_id, kind: 'out' }; renderTable(); } } }, t('desk.check_out'));
    }
    if (isClosed) {
      return h('button', { type: 'button', class: 'small primary', id: `in-${d.delegate_id}`,
        on: { click: () => { asking = { delegate_id: d.delegate_id, kind: 'late' }; renderTable(); } } }, t('desk.late_check_in'));
    }
    return h('button', { type: 'button', class: 'small primary', id: `in-${d.delegate_id}`,
      on: { click: () => act(d, 'check_in_at_desk', {}) } }, t('desk.check_in'));
  }

  function renderTable() {
    if (!tableWrap) return;
    note.hidden = checkInWindow(store.state) !== 'closed';
    if (!delegates) {
      clear(tableWrap, h('p', { class: 'muted' }, t('common.loading')));
      return;
    }
    const shown = delegates.filter(matches);
    clear(countLine, t('desk.count', { shown: Math.min(shown.length, SHOWN_MAX), total: delegates.length }));
    rebuild(tableWrap, () => h('table', { class: 'desk-table', id: 'desk-table' },
      h('thead', {}, h('tr', {}, ['col_employee_id', 'col_name', 'col_group', 'col_type', 'col_status', 'col_actions']
        .map((k) => h('th', { scope: 'col' }, t(`desk.${k}`))))),
      h('tbody', {}, shown.slice(0, SHOWN_MAX).map((d) => h('tr', { class: d.is_checked_in ? 'is-in' : null, dataset: { employeeId: d.employee_id } },
        h('td', {}, d.employee_id),
        h('th', { scope: 'row' }, data(d.name), d.is_group_leader ? h('span', { class: 'tag' }, t('delegate.leader')) : null),
        h('td', { class: 'data-text' }, d.group),
        h('td', {}, delegateType(d.delegate_type)),
        h('td', {}, statusText(d)),
        h('td', {}, actions(d)))))));
  }

  function build() {
    const search = h('input', { type: 'search', id: 'desk-search', value: state.query, autocomplete: 'off', spellcheck: 'false' });
    const group = h('select', { id: 'desk-group' }, h('option', { value: '' }, t('desk.all_groups')),
      store.state.attendance.groups.map((g) => h('option', { value: g.group_id, selected: String(g.group_id) === state.group, class: 'data-text' }, g.name)));
    search.addEventListener('input', () => { state.query = search.value; renderTable(); });
    search.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || !delegates) return;
      e.preventDefault();
      const shown = delegates.filter(matches);
      if (shown.length === 1) {
        const button = tableWrap.querySelector('tbody button');
        button?.focus();
      }
    });
    group.addEventListener('change', () => { state.group = group.value; renderTable(); });
    tableWrap = h('div', { class: 'table-wrap' });
    countLine = h('p', { class: 'hint', 'aria-live': 'polite' });
    note = h('p', { class: 'notice warn', hidden: true }, t('desk.closed_note'));
    statusLine = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
    clear(root, h('h2', {}, t('desk.title')),
      h('div', { class: 'card' },
        h('div', { class: 'row' }, h('div', { class: 'field grow' }, h('label', { for: search.id }, t('desk.search')), search),
          h('div', { class: 'field' }, h('label', { for: group.id }, t('desk.filter_group')), group),
          h('div', { class: 'field end' }, h('button', { type: 'button', class: 'small', on: { click: () => load().catch(() => {}) } }, t('desk.refresh')))),
        note, statusLine, countLine, tableWrap),
      mountWaits(live));
    renderTable();
  }

  store.subscribe((change) => {
    if (change.kind === 'hello' && built) load().catch(() => {}); // a fresh state: refresh the list too
    if (change.kind !== 'event' || !delegates) return;
    const { type, payload } = change.event;
    if (type === 'attendance.checked_in' || type === 'attendance.checked_out') {
      const d = delegates.find((x) => x.delegate_id === payload.delegate_id);
      if (!d) return;
      if (type === 'attendance.checked_in') {
        Object.assign(d, { is_checked_in: true, checked_in_at: payload.at, method: payload.method, reason: payload.reason,
          checked_out_at: null, checkout_reason: null });
      } else {
        Object.assign(d, { is_checked_in: false, checked_out_at: payload.at, checkout_reason: payload.reason });
      }
      renderTable();
    } else if (type === 'roster.imported' || type === 'check_in.window_set') {
      if (type === 'roster.imported') load().catch(() => {});
      else renderTable();
    }
  });

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      build();
      built = true;
    }
    if (!loadedOnce && store.isConnected) {
      loadedOnce = true;
      load().catch(() => { loadedOnce = false; });
    }
  };
}
