// The staff's 提案 view: the review queue (triage) with the suggested category and similar
// proposals, 立案审查 (decide), 交办 (assign), overdue cases, and 统计 with bar charts.
// Everything is read with read-only commands and refreshed (debounced) on proposal.* events
// while the view is shown.

import { choice, clear, data as dataText, field, h, rebuild } from './dom.js';
import { t, term, tx } from './i18n.js';
import {
  categories, categoryTag, dateText, DECISIONS, debounce, dueIso, errorLine, numberText, statusTag,
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

/** Plain CSS bars: one row per key (`label` shows it), the bar's width its share of the largest value. */
function bars(caption, counts, label = (name) => name) {
  const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  return h('figure', { class: 'p-bars' }, h('figcaption', {}, caption),
    entries.length ? h('ul', {}, entries.map(([name, n]) => h('li', {},
      h('span', { class: 'p-bar-name' }, label(name)),
      h('span', { class: 'p-bar-track', 'aria-hidden': 'true' },
        fill(Math.round((100 * n) / max))),
      h('span', { class: 'p-bar-n' }, String(n))))) : h('p', { class: 'muted' }, t('common.none')));
}

export function mountProposals(container, { store, live }) {
  const data = { triage: null, registered: null, overdue: null, stats: null, departments: null, threshold: 10, error: null };
  const forms = {}; // proposal id -> form values and messages
  // 新增承办部门: the name typed, whether the form is open, the result (its password shown once) or the error
  const adding = { name: '', open: false, added: null, error: null };
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
      lead: '', helpers: [], due: '', error: null,
    });
  }

  /** How alike, in words and as a bar full at the duplicate threshold; the score itself on demand. */
  function likeness(s) {
    return h('span', { class: ['p-sim', `p-sim-${s.level}`], title: t('triage.score_explained', { score: s.score, threshold: data.threshold }) },
      h('span', { class: 'p-sim-track', 'aria-hidden': 'true' }, fill(Math.round((s.share ?? 0) * 100))),
      h('span', { class: ['p-sim-words', s.level === 'duplicate' ? 'tag p-duplicate' : null] }, t(`triage.level.${s.level}`)));
  }

  function similarList(p) {
    if (!p.similar?.length) return h('p', { class: 'hint' }, t('triage.no_similar'));
    return [h('p', { class: 'hint p-similar-hint' }, t('triage.similar_hint')),
      h('ul', { class: 'p-similar', 'aria-label': t('triage.similar') }, p.similar.map((s) => h('li', {},
        h('span', { class: 'p-similar-title' }, s.number ? h('span', { class: 'p-number' }, numberText(s), ' ') : null, dataText(s.title)),
        likeness(s))))];
  }

  function decideForm(p) {
    const f = formOf(p);
    const on = (name, prop = 'value') => ({ input: (e) => { f[name] = e.target[prop]; }, change: (e) => { f[name] = e.target[prop]; } });
    const decision = h('select', { id: `pd-decision-${p.id}`, on: on('decision') },
      DECISIONS.map((d) => h('option', { value: d, selected: d === f.decision }, term('decision', d))));
    const reason = h('input', { type: 'text', id: `pd-reason-${p.id}`, value: f.reason, on: on('reason') });
    const merge = h('select', { id: `pd-merge-${p.id}`, on: on('merge_into_id') },
      h('option', { value: '' }, t('triage.merge_none')),
      (p.similar || []).filter((s) => !store.state?.congress?.id || s.congress_id === store.state.congress.id)
        .map((s) => h('option', { value: s.id, selected: String(s.id) === String(f.merge_into_id), class: 'data-text' },
          `${numberText(s) || `#${s.id}`} ${s.title} · ${t(`triage.level.${s.level}`)}`)));
    const category = h('select', { id: `pd-category-${p.id}`, on: on('category') },
      categories(store.state).map((c) => h('option', { value: c, selected: c === f.category }, term('category', c))));
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
      h('h3', { class: 'p-title' }, numberText(p) ? h('span', { class: 'p-number' }, numberText(p), ' ') : null, dataText(p.title)),
      h('p', { class: 'p-meta' }, statusTag(p), h('span', { class: 'hint' }, tx('board.proposer', { name: dataText(p.proposer) }), ' · ', dataText(p.group),
        p.cosigners?.length ? [` · ${t('proposals.cosigners')}${t('common.colon')}`, dataText(p.cosigners.join('、'))] : '')),
      p.suggested_category ? h('p', { class: 'p-suggested' }, t('triage.suggested', {
        category: term('category', p.suggested_category), pct: Math.round((p.category_confidence || 0) * 100),
      }), p.category_reasons?.length
        ? h('span', { class: 'p-suggested-reasons hint' }, ' ', tx('triage.reasons', { words: dataText(p.category_reasons.join('、')) }))
        : null) : null,
      h('details', {}, h('summary', {}, t('proposals.field_reason'), ' / ', t('proposals.field_suggestion')),
        h('p', { class: 'p-text data-text' }, p.reason), h('p', { class: 'p-text data-text' }, p.suggestion)),
      h('h4', {}, t('triage.similar')), similarList(p),
      decideForm(p));
  }

  function renderTriage() {
    rebuild(parts.triage, () => [h('h2', { class: 'card-label', id: 'triage-h' }, t('triage.title')),
      errorLine(data.error),
      data.triage === null ? h('p', { class: 'muted' }, t('common.loading'))
        : data.triage.length ? data.triage.map(triageCard) : h('p', { class: 'muted' }, t('triage.none'))]);
  }

  function departmentNames() {
    return (data.departments || []).map((d) => d.name);
  }

  /** 主办部门: one of the departments, never free text (a typo cannot reach a case). */
  function leadSelect(p, f) {
    const select = h('select', { id: `pa-lead-${p.id}`, required: true, on: { change: (e) => {
      f.lead = e.target.value;
      f.helpers = f.helpers.filter((x) => x !== f.lead); // the lead does not also help
      renderAssign();
    } } },
    h('option', { value: '', selected: !f.lead }, t('assign.lead_choose')),
    (data.departments || []).map((d) => h('option', { value: d.name, selected: d.name === f.lead, class: 'data-text' },
      d.can_sign_in ? d.name : t('assign.no_sign_in', { name: d.name }))));
    return field(t('assign.lead'), select, p.suggested_department ? t('assign.suggested', { name: p.suggested_department }) : null);
  }

  /** 协办部门: any of the others, ticked. */
  function helperChoices(p, f) {
    const others = departmentNames().filter((name) => name !== f.lead);
    return h('fieldset', { class: 'p-helpers' }, h('legend', {}, t('assign.helpers')),
      others.length ? h('div', { class: 'choices inline' }, others.map((name) => {
        const item = choice('checkbox', `pa-helpers-${p.id}`, name, dataText(name), { id: `pa-helper-${p.id}-${departmentNames().indexOf(name)}`, checked: f.helpers.includes(name) });
        item.querySelector('input').addEventListener('change', (e) => {
          f.helpers = e.target.checked ? [...f.helpers, name] : f.helpers.filter((x) => x !== name);
        });
        return item;
      })) : h('p', { class: 'hint' }, t('assign.no_helpers')));
  }

  function assignCard(p) {
    const f = formOf(p);
    if (f.lead && !departmentNames().includes(f.lead)) f.lead = '';
    const due = h('input', { id: `pa-due-${p.id}`, type: 'date', value: f.due, on: { input: (e) => { f.due = e.target.value; }, change: (e) => { f.due = e.target.value; } } });
    const form = h('form', { class: 'p-assign' },
      h('div', { class: 'p-form-grid' }, leadSelect(p, f), field(t('assign.due'), due)),
      helperChoices(p, f),
      errorLine(f.error),
      h('button', { type: 'submit', class: 'primary', id: `pa-go-${p.id}` }, t('assign.submit')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const args = { proposal_id: p.id, lead: f.lead };
      const helperList = f.helpers.filter((name) => name !== f.lead);
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
      h('h3', { class: 'p-title' }, numberText(p) ? h('span', { class: 'p-number' }, numberText(p), ' ') : null, dataText(p.title)),
      h('p', { class: 'p-meta' }, statusTag(p), categoryTag(p.category),
        p.is_key ? h('span', { class: 'tag' }, t('triage.key')) : null),
      form);
  }

  /** 新增承办部门, for a department the list lacks: with its sign-in, whose password shows here once. */
  function addDepartment() {
    const name = h('input', { type: 'text', id: 'pa-new-department', value: adding.name, on: { input: (e) => { adding.name = e.target.value; } } });
    const form = h('form', { class: 'p-add-department' }, field(t('assign.new_department'), name),
      errorLine(adding.error),
      h('button', { type: 'submit', id: 'pa-new-department-go' }, t('assign.add_department')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        adding.added = await live.command('create_department', { name: adding.name });
        adding.name = '';
        adding.error = null;
        await readDepartments();
      } catch (error) {
        adding.error = error.message;
      }
      renderAssign();
    });
    const box = h('details', { class: 'p-new-department', open: adding.open },
      h('summary', {}, t('assign.missing_department')), form);
    box.addEventListener('toggle', () => { adding.open = box.open; });
    return box;
  }

  function addedNotice() {
    const a = adding.added;
    if (!a) return null;
    return h('div', { class: 'notice ok', role: 'status', id: 'pa-department-added' },
      h('p', {}, tx('assign.department_added', { name: dataText(a.name) })),
      a.password ? h('p', {}, t('assign.department_sign_in', { login: a.login, password: a.password })) : null,
      h('button', { type: 'button', class: 'small', on: { click: () => { adding.added = null; renderAssign(); } } }, t('assign.hide_password')));
  }

  function renderAssign() {
    rebuild(parts.assign, () => [h('h2', { class: 'card-label', id: 'assign-h' }, t('assign.title')),
      addedNotice(),
      data.registered === null ? null
        : data.registered.length ? data.registered.map(assignCard) : h('p', { class: 'muted' }, t('assign.none')),
      data.departments === null ? null : addDepartment()]);
  }

  async function readDepartments() {
    data.departments = (await live.command('list_departments')).departments;
  }

  function renderOverdue() {
    clear(parts.overdue, h('h2', { class: 'card-label', id: 'overdue-h' }, t('overdue.title')),
      !data.overdue ? null : data.overdue.length
        ? h('ul', { class: 'p-overdue-list' }, data.overdue.map((o) => h('li', {},
          h('span', { class: 'p-number' }, numberText(o), ' '), dataText(o.title), ' · ', dataText(o.department), ' · ',
          t('cases.due', { date: dateText(o.due_at) }), h('span', { class: 'tag p-overdue' }, t('cases.overdue')))))
        : h('p', { class: 'muted' }, t('overdue.none')));
  }

  // 提案办理情况报告 as of a chosen day (today by default), kept across refreshes of the card
  let reportDay = '';

  function reportLinks(congressId) {
    const today = new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10);
    const day = h('input', { type: 'date', id: 'report-date', value: reportDay || today, max: today });
    const link = (kind) => h('a', { id: `report-${kind}`, download: '', class: 'button small' }, t(`report.${kind}`));
    const links = [link('pdf'), link('xlsx')];
    const point = () => {
      reportDay = day.value;
      for (const a of links) a.href = `/api/congresses/${congressId}/proposals/report.${a.id.slice(7)}?date=${encodeURIComponent(day.value || today)}`;
    };
    day.addEventListener('change', point);
    point();
    return h('div', { class: 'p-report' }, h('h3', {}, t('report.title')), field(t('report.date'), day), h('p', { class: 'actions' }, links));
  }

  function renderStats() {
    const s = data.stats;
    const congressId = store.state?.congress?.id;
    clear(parts.stats, h('h2', { class: 'card-label', id: 'stats-h' }, t('stats.title')),
      congressId ? h('p', {}, h('a', { href: `/api/congresses/${congressId}/proposals/register.xlsx`, download: '' },
        t('stats.export_register'))) : null,
      congressId ? reportLinks(congressId) : null,
      !s ? null : [
        h('dl', { class: 'figures p-figures' },
          h('div', {}, h('dt', {}, t('stats.total')), h('dd', { id: 'stat-total' }, String(s.total))),
          h('div', {}, h('dt', {}, t('stats.answered_rate')), h('dd', { id: 'stat-answered' }, pct(s.answered_rate))),
          h('div', {}, h('dt', {}, t('stats.satisfaction_rate')), h('dd', { id: 'stat-satisfaction' }, pct(s.satisfaction_rate))),
          h('div', {}, h('dt', {}, t('stats.overdue')), h('dd', {}, String(s.overdue)))),
        h('div', { class: 'p-charts' }, bars(t('stats.by_category'), s.by_category, (name) => term('category', name)), bars(t('stats.by_group'), s.by_group, dataText))]);
  }

  async function refresh() {
    try {
      const [triage, registered, overdue, stats] = await Promise.all([
        live.command('triage', { status: 'submitted' }), live.command('triage', { status: 'registered' }),
        live.command('overdue_cases'), live.command('proposal_stats'), readDepartments()]);
      data.triage = triage.proposals;
      data.threshold = triage.duplicate_threshold ?? data.threshold;
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
  onEvents('department', () => later()); // another staff member added one
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
