// The hand-count form (分组计票): a group voting on site reports its figures — present, each
// option's count, and for paper ballots issued / returned / valid / void — with its scrutineer.
// The group leader uses it on the delegate page (their own group); staff use it for any group.

import { choice, field, h } from './dom.js';
import { optionLabel, t } from './i18n.js';

function numberInput(id) {
  return h('input', { type: 'number', id, min: 0, step: 1, inputmode: 'numeric', required: true, class: 'num-input' });
}

function readInt(form, id) {
  const value = form.querySelector(`#${id}`)?.value ?? '';
  return value === '' ? null : Number(value);
}

/** groups: [{group_id, name}] to choose from (one: fixed). live: the LiveClient. */
export function handCountForm({ vote, groups, live, prefix = `hc-${vote.id}` }) {
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const groupSelect = h('select', { id: `${prefix}-group`, required: true },
    groups.map((g) => h('option', { value: g.group_id }, g.name)));
  const methods = h('fieldset', { class: 'choices inline' },
    h('legend', {}, t('handcount.method')),
    choice('radio', `${prefix}-method`, 'show_of_hands', t('result.show_of_hands'), { checked: true, id: `${prefix}-m-hands` }),
    choice('radio', `${prefix}-method`, 'paper', t('result.paper'), { id: `${prefix}-m-paper` }));
  const questions = vote.questions.map((q) => h('fieldset', { class: 'question-counts' },
    h('legend', {}, q.text),
    h('div', { class: 'count-grid' },
      q.options.map((o, i) => field(t('handcount.count_of', { option: optionLabel(o) }), numberInput(`${prefix}-q${q.id}-o${i}`))),
      ['issued', 'returned', 'valid', 'void'].map((k) => h('div', { class: 'paper-only', hidden: true },
        field(t(`handcount.${k}`), numberInput(`${prefix}-q${q.id}-${k}`)))))));
  const form = h('form', { class: 'handcount', novalidate: false },
    groups.length > 1 ? field(t('handcount.group'), groupSelect) : null,
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
        vote_id: vote.id, group_id: Number(groups.length > 1 ? groupSelect.value : groups[0].group_id),
        method: isPaper ? 'paper' : 'show_of_hands', present: readInt(form, `${prefix}-present`),
        questions: figures, scrutineer: form.querySelector(`#${prefix}-scrutineer`).value,
      });
      status.className = 'form-status ok';
      status.textContent = [t('handcount.sent'), ...(result.words || [])].join(' ');
    } catch (error) {
      status.className = 'form-status bad';
      status.textContent = t('common.error', { message: error.message });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
