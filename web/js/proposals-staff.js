// The staff's 提案 view: the review queue (triage) with the suggested category and similar
// proposals, 立案审查 (decide), 交办 (assign), overdue cases, and 统计 with bar charts.
// Everything is read with read-only commands and refreshed (debounced) on proposal.* events
// while the view is shown.

import { clear, field, h, rebuild } from './dom.js';
import { t } from './i18n.js';
import {
  categories, dateText, DECISIONS, debounce, dueIso, errorLine, numberText, statusTag,
} from './proposals-common.js';
import { onEvents } from './state.js';

function pct(x) {
  return x === null || x === undefined ? '—' : `${Math.round(x * 1000) / 10}%`;
}

function fill(percent) {
  const el = h('span', { class: 'p-bar-fill' });
  el.style.width = `${percent}%`; // CSSOM, not a style attribute: the pages' CSP allows no inline styles
  return el;
}

/** Plain CSS bars: one row per key, the bar's width its share of the largest value. */
function bars(caption, counts) {
  const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  return h('figure', { class: 'p-bars' }, h('figcaption', {}, caption),
    entries.length ? h('ul', {}, entries.map(([name, n]) => h('li', {},
      h('span', { class: 'p-bar-name' }, name),
      h('span', { class: 'p-bar-track', 'aria-hidden': 'true' },
        fill(Math.round((100 * n) / max))),
      h('span', { class: 'p-bar-n' }, String(n))))) : h('p', { class: 'muted' }, t('common.none')));
}

export function mountProposals(container, { store, live }) {
  const data = { triage: null, registered: null, overdue: null, stats: null, error: null };
  const forms = {}; // proposal id -> form values and messages
  const parts = {
    triage: h('section', { class: 'card', 'aria-labelledby': 'triage-h', id: 'p-triage' }),
    assign: h('section', { class: 'card', 'aria-labelledby': 'assign-h', id: 'p-assign' }),
    overdue: h('section', { class: 'card', 'aria-labelledby': 'overdue-h', id: 'p-overdue' }),
    stats: h('section', { class: 'card', 'aria-labelledby': 'stats-h', id: 'p-stats' }),
  };
  clear(container, h('div', { class: 'p-staff' }, parts.triage, parts.assign, parts.overdue, parts.stats));

  function formOf(p) {
    return (forms[p.id] ||= {
      decision: '立案', reason: '', merge_into_id: '', category: p.category || p.suggested_category || '', is_key: !!p.is_key,
      lead: '', helpers: '', due: '', error: null,
    });
  }

  function similarList(p) {
    if (!p.similar?.length) return h('p', { class: 'hint' }, t('triage.no_similar'));
    return h('ul', { class: 'p-similar', 'aria-label': t('triage.similar') }, p.similar.map((s) => h('li', {},
      s.number ? h('span', { class: 'p-number' }, numberText(s), ' ') : null, s.title, ' ',
      h('span', { class: 'hint' }, t('triage.score', { score: s.score })),
      s.is_likely_duplicate ? h('span', { class: 'tag p-duplicate' }, t('triage.duplicate')) : null)));
  }

  function decideForm(p) {
    const f = formOf(p);
    const on = (name, prop = 'value') => ({ input: (e) => { f[name] = e.target[prop]; }, change: (e) => { f[name] = e.target[prop]; } });
    const decision = h('select', { id: `pd-decision-${p.id}`, on: on('decision') },
      DECISIONS.map((d) => h('option', { value: d, selected: d === f.decision }, d)));
    const reason = h('input', { type: 'text', id: `pd-reason-${p.id}`, value: f.reason, on: on('reason') });
    const merge = h('select', { id: `pd-merge-${p.id}`, on: on('merge_into_id') },
      h('option', { value: '' }, t('triage.merge_none')),
      (p.similar || []).filter((s) => !store.state?.congress?.id || s.congress_id === store.state.congress.id)
        .map((s) => h('option', { value: s.id, selected: String(s.id) === String(f.merge_into_id) },
          `${numberText(s) || `#${s.id}`} ${s.title}${s.is_likely_duplicate ? ` · ${t('triage.duplicate')}` : ''}`)));
    const category = h('select', { id: `pd-category-${p.id}`, on: on('category') },
      categories(store.state).map((c) => h('option', { value: c, selected: c === f.category }, c)));
    const key = h('input', { type: 'checkbox', id: `pd-key-${p.id}`, checked: f.is_key, on: on('is_key', 'checked') });
    const form = h('form', { class: 'p-decide' },
      h('div', { class: 'p-form-grid' }, field(t('triage.decision'), decision), field(t('triage.category'), category),
        field(t('triage.merge_into'), merge), field(t('triage.reason'), reason)),
      h('label', { class: 'choice', for: key.id }, key, h('span', {}, t('triage.key'))),
      errorLine(f.error),
      h('button', { type: 'submit', class: 'primary', id: `pd-go-${p.id}` }, t('triage.decide')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const args = { proposal_id: p.id, decision: f.decision, category: f.category || null, is_key: f.is_key };
      if (f.reason.trim()) args.reason = f.reason.trim();
      if (f.decision === '合并立案' && f.merge_into_id) args.merge_into_id = Number(f.merge_into_id);
      try {
        await live.command('decide_proposal', args);
        f.error = null;
        refresh();
      } catch (error) {
        f.error = error.message;
        renderTriage();
      }
    });
    return form;
  }

  function triageCard(p) {
    return h('article', { class: 'p-item p-triage-item', dataset: { proposalId: p.id } },
      h('h3', { class: 'p-title' }, numberText(p) ? h('span', { class: 'p-number' }, numberText(p), ' ') : null, p.title),
      h('p', { class: 'p-meta' }, statusTag(p), h('span', { class: 'hint' }, t('board.proposer', { name: p.proposer }), ' · ', p.group,
        p.cosigners?.length ? ` · ${t('proposals.cosigners')}：${p.cosigners.join('、')}` : '')),
      p.suggested_category ? h('p', { class: 'p-suggested' }, t('triage.suggested', {
        category: p.suggested_category, pct: Math.round((p.category_confidence || 0) * 100),
      })) : null,
      h('details', {}, h('summary', {}, t('proposals.field_reason'), ' / ', t('proposals.field_suggestion')),
        h('p', { class: 'p-text' }, p.reason), h('p', { class: 'p-text' }, p.suggestion)),
      h('h4', {}, t('triage.similar')), similarList(p),
      decideForm(p));
  }

  function renderTriage() {
    rebuild(parts.triage, () => [h('h2', { class: 'card-label', id: 'triage-h' }, t('triage.title')),
      errorLine(data.error),
      data.triage === null ? h('p', { class: 'muted' }, t('common.loading'))
        : data.triage.length ? data.triage.map(triageCard) : h('p', { class: 'muted' }, t('triage.none'))]);
  }

  function assignCard(p) {
    const f = formOf(p);
    const on = (name) => ({ input: (e) => { f[name] = e.target.value; } });
    const lead = h('input', { type: 'text', id: `pa-lead-${p.id}`, value: f.lead, required: true, on: on('lead') });
    const helpers = h('input', { type: 'text', id: `pa-helpers-${p.id}`, value: f.helpers, on: on('helpers') });
    const due = h('input', { id: `pa-due-${p.id}`, type: 'date', value: f.due, on: { input: (e) => { f.due = e.target.value; }, change: (e) => { f.due = e.target.value; } } });
    const form = h('form', { class: 'p-assign' },
      h('div', { class: 'p-form-grid' }, field(t('assign.lead'), lead), field(t('assign.helpers'), helpers), field(t('assign.due'), due)),
      errorLine(f.error),
      h('button', { type: 'submit', class: 'primary', id: `pa-go-${p.id}` }, t('assign.submit')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const args = { proposal_id: p.id, lead: f.lead.trim() };
      const helperList = f.helpers.split(/[,，、]/).map((x) => x.trim()).filter(Boolean);
      if (helperList.length) args.helpers = helperList;
      if (f.due) args.due_at = dueIso(f.due);
      try {
        await live.command('assign_proposal', args);
        f.error = null;
        refresh();
      } catch (error) {
        f.error = error.message;
        renderAssign();
      }
    });
    return h('article', { class: 'p-item', dataset: { proposalId: p.id } },
      h('h3', { class: 'p-title' }, numberText(p) ? h('span', { class: 'p-number' }, numberText(p), ' ') : null, p.title),
      h('p', { class: 'p-meta' }, statusTag(p), p.category ? h('span', { class: 'tag' }, p.category) : null,
        p.is_key ? h('span', { class: 'tag' }, t('triage.key')) : null,
        p.suggested_department ? h('span', { class: 'hint' }, p.suggested_department) : null),
      form);
  }

  function renderAssign() {
    rebuild(parts.assign, () => [h('h2', { class: 'card-label', id: 'assign-h' }, t('assign.title')),
      data.registered === null ? null
        : data.registered.length ? data.registered.map(assignCard) : h('p', { class: 'muted' }, t('assign.none'))]);
  }

  function renderOverdue() {
    clear(parts.overdue, h('h2', { class: 'card-label', id: 'overdue-h' }, t('overdue.title')),
      !data.overdue ? null : data.overdue.length
        ? h('ul', { class: 'p-overdue-list' }, data.overdue.map((o) => h('li', {},
          h('span', { class: 'p-number' }, numberText(o), ' '), o.title, ' · ', o.department, ' · ',
          t('cases.due', { date: dateText(o.due_at) }), h('span', { class: 'tag p-overdue' }, t('cases.overdue')))))
        : h('p', { class: 'muted' }, t('overdue.none')));
  }

  function renderStats() {
    const s = data.stats;
    const congressId = store.state?.congress?.id;
    clear(parts.stats, h('h2', { class: 'card-label', id: 'stats-h' }, t('stats.title')),
      congressId ? h('p', {}, h('a', { href: `/api/congresses/${congressId}/proposals/register.xlsx`, download: '' },
        t('stats.export_register'))) : null,
      !s ? null : [
        h('dl', { class: 'figures p-figures' },
          h('div', {}, h('dt', {}, t('stats.total')), h('dd', { id: 'stat-total' }, String(s.total))),
          h('div', {}, h('dt', {}, t('stats.answered_rate')), h('dd', { id: 'stat-answered' }, pct(s.answered_rate))),
          h('div', {}, h('dt', {}, t('stats.satisfaction_rate')), h('dd', { id: 'stat-satisfaction' }, pct(s.satisfaction_rate))),
          h('div', {}, h('dt', {}, t('stats.overdue')), h('dd', {}, String(s.overdue)))),
        h('div', { class: 'p-charts' }, bars(t('stats.by_category'), s.by_category), bars(t('stats.by_group'), s.by_group))]);
  }

  async function refresh() {
    try {
      const [triage, registered, overdue, stats] = await Promise.all([
        live.command('triage', { status: 'submitted' }), live.command('triage', { status: 'registered' }),
        live.command('overdue_cases'), live.command('proposal_stats')]);
      data.triage = triage.proposals;
      data.registered = registered.proposals;
      data.overdue = overdue.overdue;
      data.stats = stats;
      data.error = null;
    } catch (error) {
      data.error = error.message;
    }
    renderAll();
  }

  function renderAll() {
    renderTriage();
    renderAssign();
    renderOverdue();
    renderStats();
  }

  // Read only while the view is shown. Every staff page mounts it, and a triage read scores each
  // queued proposal against all the others: the desk and the vote control must not pay for it on
  // every proposal event. A hidden view reads once it is shown again.
  let stale = true;
  function refreshIfShown() {
    stale = container.hidden;
    if (!stale) refresh();
  }
  const later = debounce(refreshIfShown, 500);
  onEvents('proposal', () => later());
  let started = false;
  return (force) => {
    if (!store.state) return;
    if (!started) {
      started = true;
      renderAll();
    } else if (force) {
      renderAll();
    }
    if (stale && !container.hidden) refreshIfShown();
  };
}
