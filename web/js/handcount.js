// The hand-count form (分组计票): a group voting on site reports its figures — present, each
// option's count, and for paper ballots issued / returned / valid / void — with its scrutineer.
// The group leader uses it on the delegate page (their own group); staff use it for any group.
// Once a group has reported, the form says what is on record — each option's figure, who entered
// it and the scrutineer — and keeps those figures in its fields, so a correction is a change and
// a second 报送, not typing everything again.

import { choice, clear, data, field, h } from './dom.js';
import { optionLabel, t, tx } from './i18n.js';
import { officialWords } from './results.js';

function numberInput(id) {
  return h('input', { type: 'number', id, min: 0, step: 1, inputmode: 'numeric', required: true, class: 'num-input' });
}

function readInt(form, id) {
  const value = form.querySelector(`#${id}`)?.value ?? '';
  return value === '' ? null : Number(value);
}

/** The figures of one question as entered: "赞成 20，反对 1，弃权 1" (and the paper ballots). */
function questionFigures(question, stored) {
  const counts = stored?.counts || {};
  const parts = question.options.map((o) => `${optionLabel(o)} ${counts[o.key] ?? 0}`);
  for (const k of ['issued', 'returned', 'valid', 'void']) {
    if (stored && stored[k] !== undefined && stored[k] !== null) parts.push(`${t(`handcount.${k}`)} ${stored[k]}`);
  }
  return parts.join(t('handcount.list_separator'));
}

/** What is on record for a group: `count` is a group_count.entered payload or a list_group_counts row. */
function reportedSummary(vote, count) {
  return [
    h('p', { class: 'handcount-reported' }, h('strong', {}, tx('handcount.reported', { by: data(count.entered_by ?? ''), scrutineer: data(count.scrutineer) }))),
    h('p', {}, tx('handcount.summary_line', {
      group: data(count.group ?? ''), present: count.figures?.present ?? '',
      method: t(count.method === 'paper' ? 'result.paper' : 'result.show_of_hands'),
    })),
    h('ul', { class: 'handcount-figures' }, vote.questions.map((q) => {
      const figures = questionFigures(q, count.figures?.questions?.[String(q.id)]);
      return h('li', {}, vote.questions.length > 1 ? tx('handcount.question_figures', { question: data(q.text), figures }) : figures);
    })),
    // The server's check of the figures is the record's words: in English under a line of our own.
    count.words?.length ? officialWords(count.words.join(' '),
      t(count.figures?.is_void_round ? 'result.summary_void' : 'handcount.checked'), { className: 'hint' }) : null,
    h('p', { class: 'hint' }, t('handcount.correct_hint')),
  ];
}

/** groups: [{group_id, name}] to choose from (one: fixed). live: the LiveClient. What a group has
 * reported is read from `vote.group_counts[group_id]` (group_count.entered, list_group_counts). */
export function handCountForm({ vote, groups, live, prefix = `hc-${vote.id}` }) {
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const summary = h('div', { class: 'notice ok handcount-summary', id: `${prefix}-summary`, hidden: true });
  const groupSelect = h('select', { id: `${prefix}-group`, required: true },
    groups.map((g) => h('option', { value: g.group_id, class: 'data-text' }, g.name)));
  const methods = h('fieldset', { class: 'choices inline' },
    h('legend', {}, t('handcount.method')),
    choice('radio', `${prefix}-method`, 'show_of_hands', t('result.show_of_hands'), { checked: true, id: `${prefix}-m-hands` }),
    choice('radio', `${prefix}-method`, 'paper', t('result.paper'), { id: `${prefix}-m-paper` }));
  const questions = vote.questions.map((q) => h('fieldset', { class: 'question-counts' },
    h('legend', { class: 'data-text' }, q.text),
    h('div', { class: 'count-grid' },
      q.options.map((o, i) => field(t('handcount.count_of', { option: optionLabel(o) }), numberInput(`${prefix}-q${q.id}-o${i}`))),
      ['issued', 'returned', 'valid', 'void'].map((k) => h('div', { class: 'paper-only', hidden: true },
        field(t(`handcount.${k}`), numberInput(`${prefix}-q${q.id}-${k}`)))))));
  const form = h('form', { class: 'handcount', novalidate: false },
    groups.length > 1 ? field(t('handcount.group'), groupSelect) : null,
    summary,
    methods,
    field(t('handcount.present'), numberInput(`${prefix}-present`)),
    questions,
    field(t('handcount.scrutineer'), h('input', { type: 'text', id: `${prefix}-scrutineer`, required: true, autocomplete: 'off' })),
    h('button', { type: 'submit', class: 'primary' }, t('handcount.submit')),
    status);

  function setPaper(isPaper) {
    for (const el of form.querySelectorAll('.paper-only')) {
      el.hidden = !isPaper;
      for (const input of el.querySelectorAll('input')) input.required = isPaper;
    }
  }
  methods.addEventListener('change', () => setPaper(form.querySelector(`#${prefix}-m-paper`).checked));
  setPaper(false);

  const groupId = () => Number(groups.length > 1 ? groupSelect.value : groups[0].group_id);
  const input = (id) => form.querySelector(`#${id}`);

  function showSummary(count) {
    summary.hidden = !count;
    clear(summary, count ? reportedSummary(vote, count) : null);
  }

  /** The chosen group's figures on record in the fields (empty when it has not reported). */
  function fillFromRecord() {
    const count = vote.group_counts?.[groupId()] || null;
    const figures = count?.figures || {};
    const isPaper = count?.method === 'paper';
    input(`${prefix}-m-${isPaper ? 'paper' : 'hands'}`).checked = true;
    setPaper(isPaper);
    input(`${prefix}-present`).value = figures.present ?? '';
    for (const q of vote.questions) {
      const stored = figures.questions?.[String(q.id)] || {};
      q.options.forEach((o, i) => { input(`${prefix}-q${q.id}-o${i}`).value = stored.counts?.[o.key] ?? ''; });
      for (const k of ['issued', 'returned', 'valid', 'void']) input(`${prefix}-q${q.id}-${k}`).value = stored[k] ?? '';
    }
    input(`${prefix}-scrutineer`).value = count?.scrutineer ?? '';
    showSummary(count);
  }
  groupSelect.addEventListener('change', () => {
    status.textContent = '';
    fillFromRecord();
  });
  fillFromRecord();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const isPaper = form.querySelector(`#${prefix}-m-paper`).checked;
    const figures = {};
    for (const q of vote.questions) {
      const counts = Object.fromEntries(q.options.map((o, i) => [o.key, readInt(form, `${prefix}-q${q.id}-o${i}`)]));
      figures[String(q.id)] = { counts };
      if (isPaper) for (const k of ['issued', 'returned', 'valid', 'void']) figures[String(q.id)][k] = readInt(form, `${prefix}-q${q.id}-${k}`);
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    status.className = 'form-status';
    status.textContent = t('common.sending');
    try {
      const result = await live.command('enter_group_count', {
        vote_id: vote.id, group_id: groupId(),
        method: isPaper ? 'paper' : 'show_of_hands', present: readInt(form, `${prefix}-present`),
        questions: figures, scrutineer: form.querySelector(`#${prefix}-scrutineer`).value,
      });
      status.className = 'form-status ok';
      status.textContent = t('handcount.sent');
      showSummary(result); // the fields keep what was sent, for a correction
    } catch (error) {
      status.className = 'form-status bad';
      status.textContent = t('common.error', { message: error.message });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
