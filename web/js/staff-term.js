// Staff: 本届 — the term (届) this congress is a session (次) of (docs/terms.md). The statistics of each
// session and of the term (立案率, 办结率, 满意率; by department and by category; the change from one
// session to the next) as bar charts (chart.js) and tables; the previous session's open proposals to
// carry over (all ticked by default); and starting the next session. Reads with the staff-only ops
// `term_statistics` and `carry_over_candidates`, again after a carry-over or on a `proposal.*` event.

import { barChart } from './chart.js';
import { askFirst } from './confirm.js';
import { clear, data, h, region } from './dom.js';
import { t, tx } from './i18n.js';
import { onEvents } from './state.js';

const RATES = ['register_rate', 'closed_rate', 'satisfaction_rate'];

function pct(rate) {
  return rate == null ? '—' : `${(rate * 100).toFixed(1)}%`;
}

function rateChart(stats, key) {
  const rows = stats.sessions.map((s) => ({
    label: s.label, isData: true, total: 1000, counts: { rate: Math.round((s[key] ?? 0) * 1000) }, text: pct(s[key]),
  }));
  rows.push({ label: t('term.whole'), total: 1000, counts: { rate: Math.round((stats.term[key] ?? 0) * 1000) },
    text: pct(stats.term[key]), isTotal: true });
  return h('div', { class: 'term-chart', dataset: { rate: key } },
    barChart({ caption: t(`term.${key}`), legend: [{ key: 'rate', label: t(`term.${key}`) }], rows }));
}

function sessionTable(stats) {
  const cols = ['session', 'total', 'cases', 'closed', 'carried_in', ...RATES];
  const cells = (s, label) => [h('th', { scope: 'row', class: 'data-text' }, label),
    ...['total', 'cases', 'closed'].map((k) => h('td', { class: 'num' }, String(s[k]))),
    h('td', { class: 'num' }, s.carried_in == null ? '—' : String(s.carried_in)),
    ...RATES.map((k) => h('td', { class: 'num' }, pct(s[k])))];
  return h('div', { class: 'table-wrap' }, h('table', { class: 'compact', id: 'term-sessions' },
    h('caption', {}, t('term.sessions_caption')),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: c === 'session' ? null : 'num' }, t(`term.col_${c}`))))),
    h('tbody', {}, stats.sessions.map((s) => h('tr', {}, cells(s, s.label))),
      h('tr', { class: 'is-total' }, cells({ ...stats.term, carried_in: null }, t('term.whole'))))));
}

function breakdown(session, kind) {
  const rows = kind === 'department' ? session.by_department : session.by_category;
  return h('div', { class: 'table-wrap' }, h('table', { class: 'compact', id: `term-by-${kind}` },
    h('caption', {}, tx(`term.by_${kind}`, { session: data(session.label) })),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t(`term.col_${kind}`)),
      ['cases', 'closed', 'closed_rate', 'satisfaction_rate'].map((c) => h('th', { scope: 'col', class: 'num' }, t(`term.col_${c}`))))),
    h('tbody', {}, rows.map((r) => h('tr', {}, h('th', { scope: 'row', class: 'data-text' }, r[kind]),
      h('td', { class: 'num' }, String(r.cases)), h('td', { class: 'num' }, String(r.closed)),
      h('td', { class: 'num' }, pct(r.closed_rate)), h('td', { class: 'num' }, pct(r.satisfaction_rate)))))));
}

function yearOnYear(stats) {
  if (!stats.year_on_year.length) return null;
  const change = (v) => (v == null ? '—' : `${v > 0 ? '+' : ''}${v.toFixed(1)}`);
  return h('ul', { id: 'term-year-on-year' }, stats.year_on_year.map((y) => h('li', {},
    tx('term.change', { from: data(y.from), to: data(y.to), register: change(y.register_rate),
      closed: change(y.closed_rate), satisfaction: change(y.satisfaction_rate) }))));
}

export function mountTerm(root, { store, live, congressId }) {
  const ui = { stats: null, candidates: null, error: null, status: null, stale: true, busy: false, picked: null };
  const statsBox = h('div', { id: 'term-stats' });
  const carryBox = h('div', { id: 'term-carry' });
  const nextBox = h('div', { id: 'term-next' });
  let built = false;

  async function load() {
    ui.stale = false;
    try {
      [ui.stats, ui.candidates] = await Promise.all([live.command('term_statistics'), live.command('carry_over_candidates')]);
      ui.picked = new Set(ui.candidates.proposals.filter((p) => !p.carried).map((p) => p.number));
      ui.error = null;
    } catch (error) {
      ui.error = error.message;
    }
    statsRegion();
    carryRegion();
  }

  async function carry() {
    const numbers = [...ui.picked].sort((a, b) => a - b);
    ui.busy = true;
    carryRegion();
    try {
      const result = await live.command('carry_over_proposals', { numbers });
      ui.status = ['ok', tx('term.carried', { n: result.carried.length, from: data(result.from.label) })];
    } catch (error) {
      ui.status = ['bad', t('common.error', { message: error.message })];
    } finally {
      ui.busy = false;
    }
    await load();
  }

  async function startNext() {
    const asked = await askFirst({
      title: t('term.next_title'),
      body: () => [h('p', {}, t('term.next_body'))],
      confirmLabel: t('term.next'),
      id: 'term-next-confirm',
    });
    if (!asked) return;
    try {
      const result = await live.command('start_next_session', {});
      clear(nextBox, h('p', { class: 'notice ok', role: 'status', id: 'term-next-done' },
        tx('term.next_done', { label: data(result.label), name: data(result.name) }), ' ',
        h('a', { href: `/staff?congress=${result.id}#term` }, t('term.open_next'))));
    } catch (error) {
      clear(nextBox, h('p', { class: 'notice bad', role: 'alert' }, t('common.error', { message: error.message })));
    }
  }

  const statsRegion = region(statsBox, () => [ui.stats, ui.error], () => {
    if (ui.error) return h('p', { class: 'notice bad', role: 'alert' }, ui.error);
    if (!ui.stats) return h('p', { class: 'muted' }, t('common.loading'));
    const current = ui.stats.sessions[ui.stats.sessions.length - 1];
    return [
      h('p', { class: 'hint' }, tx('term.intro', { term: data(ui.stats.term_name || ''), n: ui.stats.sessions.length })),
      h('div', { class: 'term-charts' }, RATES.map((k) => rateChart(ui.stats, k))),
      sessionTable(ui.stats),
      yearOnYear(ui.stats),
      breakdown(current, 'department'),
      breakdown(current, 'category'),
    ];
  });

  const carryRegion = region(carryBox, () => [ui.candidates, ui.busy, ui.status, ui.picked?.size], () => {
    const c = ui.candidates;
    const status = ui.status ? h('p', { class: ['notice', ui.status[0]], role: 'status', id: 'term-carry-status' }, ui.status[1]) : null;
    if (!c) return status;
    if (!c.from) return [h('p', { class: 'muted' }, t('term.first_session')), status];
    const rows = c.proposals.map((p) => {
      const box = h('input', { type: 'checkbox', value: String(p.number), checked: ui.picked.has(p.number), disabled: p.carried,
        'aria-label': `${p.number} ${p.title}`,
        on: { change: (e) => { if (e.target.checked) ui.picked.add(p.number); else ui.picked.delete(p.number); carryRegion(); } } });
      return h('tr', {}, h('td', {}, box), h('td', { class: 'num' }, String(p.number)), h('td', { class: 'data-text' }, p.title),
        h('td', {}, p.carried ? t('term.already_carried') : p.status_label));
    });
    return [
      h('h3', {}, tx('term.carry_title', { from: data(c.from.label) })),
      h('p', { class: 'hint' }, t('term.carry_hint')),
      status,
      c.proposals.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'compact', id: 'term-candidates' },
        h('thead', {}, h('tr', {}, ['pick', 'number', 'title', 'state'].map((k) => h('th', { scope: 'col' }, t(`term.col_${k}`))))),
        h('tbody', {}, rows))) : h('p', { class: 'muted' }, t('term.none_open')),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'term-carry-button',
        disabled: ui.busy || !ui.picked.size, on: { click: carry } }, tx('term.carry', { n: ui.picked.size }))),
    ];
  });

  // A carry-over is dozens of proposal.* events at once: read again once they have arrived
  let pending = null;
  onEvents('proposal', () => {
    if (root.hidden) { ui.stale = true; return; }
    clearTimeout(pending);
    pending = setTimeout(load, 400);
  });

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      const label = store.state.congress.term?.label;
      clear(root, h('h2', {}, t('staff.nav.term'), label ? [' · ', data(label)] : null), statsBox, carryBox,
        h('div', { class: 'card' }, h('h3', {}, t('term.next')), h('p', { class: 'hint' }, t('term.next_hint')),
          h('div', { class: 'actions' }, h('button', { type: 'button', id: 'term-next-button', on: { click: startNext } }, t('term.next'))),
          nextBox));
      built = true;
    }
    if (!root.hidden && ui.stale) load();
    statsRegion(force);
    carryRegion(force);
  };
}
