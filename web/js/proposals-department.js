// 承办提案 on the department's page: the cases assigned to it (due date, overdue flag), a reply form
// (class A–D and text) and 退回 when the case is not the department's. Read with `department_cases`,
// refreshed (debounced) on proposal.* events.

import { choice, clear, data, field, h, rebuild } from './dom.js';
import { t, tx } from './i18n.js';
import {
  categoryTag, dateText, debounce, errorLine, numberText, REPLY_CLASSES, replyBlock, replyClassLabel, statusTag,
} from './proposals-common.js';
import { onEvents } from './state.js';

export function mountDepartmentCases(container, live) {
  const list = h('div', { class: 'p-cases', id: 'cases-list' });
  const drafts = {}; // proposal id -> {reply_class, text, reason, returning, error, notice}
  let cases = [];

  function replyForm(c, d) {
    const radios = REPLY_CLASSES.map((key) => {
      const item = choice('radio', `class-${c.id}`, key, `${key} · ${replyClassLabel(key)}`, { checked: d.reply_class === key });
      item.querySelector('input').addEventListener('change', () => { d.reply_class = key; });
      return item;
    });
    const text = h('textarea', { id: `reply-text-${c.id}`, rows: '5', on: { input: (e) => { d.text = e.target.value; } } });
    text.value = d.text;
    const form = h('form', { class: 'p-reply-form' },
      h('fieldset', {}, h('legend', {}, t('cases.reply_class')), h('div', { class: 'choices' }, radios)),
      field(t('cases.reply_text'), text),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, t('cases.reply_submit')),
        c.status === 'assigned' // a case being carried out (跟踪落实中) is the department's own by now
          ? h('button', { type: 'button', on: { click: () => { d.returning = !d.returning; render(); } } }, t('cases.misassigned')) : null));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await live.command('reply_proposal', { proposal_id: c.id, reply_class: d.reply_class || '', text: d.text });
        d.error = null;
        d.notice = t('cases.replied_ok');
        d.text = '';
        await refresh();
      } catch (error) {
        d.error = error.message;
        render();
      }
    });
    return form;
  }

  function returnForm(c, d) {
    const reason = h('textarea', { id: `return-reason-${c.id}`, rows: '2', on: { input: (e) => { d.reason = e.target.value; } } });
    reason.value = d.reason;
    const form = h('form', { class: 'p-return-form' }, field(t('cases.misassigned_reason'), reason),
      h('button', { type: 'submit', class: 'danger' }, t('cases.misassigned_submit')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await live.command('report_misassigned', { proposal_id: c.id, reason: d.reason });
        d.error = null;
        d.returning = false;
        d.notice = t('cases.returned_ok');
        await refresh();
      } catch (error) {
        d.error = error.message;
        render();
      }
    });
    return form;
  }

  function caseCard(c) {
    const d = (drafts[c.id] ||= { reply_class: '', text: '', reason: '', returning: false, error: null, notice: null });
    // The lead answers its current case; once the proposer accepted a B reply (跟踪落实中) it reports the result.
    const open = c.is_lead && c.is_current !== false && (c.status === 'assigned' || c.status === 'following_up');
    if (d.seen !== c.status) { // open again (不满意, or a B reply accepted): last time's note and class are history
      if (d.seen && open) Object.assign(d, { notice: null, reply_class: '', returning: false });
      d.seen = c.status;
    }
    return h('article', { class: ['card', 'p-case', c.is_overdue ? 'is-overdue' : null], dataset: { proposalId: c.id } },
      h('h3', { class: 'p-title' }, numberText(c) ? h('span', { class: 'p-number' }, numberText(c), ' ') : null, data(c.title)),
      h('p', { class: 'p-meta' }, statusTag(c), categoryTag(c.category),
        h('span', { class: 'tag' }, t(c.is_lead ? 'cases.lead' : 'cases.helper')),
        c.round > 1 ? h('span', { class: 'tag' }, t('cases.round', { n: c.round })) : null,
        c.due_at ? h('span', { class: 'p-due' }, t('cases.due', { date: dateText(c.due_at) })) : null,
        c.is_overdue ? h('span', { class: 'tag p-overdue' }, t('cases.overdue')) : null,
        c.is_current === false ? h('span', { class: 'tag' }, t('cases.not_current')) : null),
      h('p', { class: 'hint' }, tx('board.proposer', { name: data(c.proposer) }), ' · ', data(c.group)),
      h('details', {}, h('summary', {}, t('proposals.field_reason'), ' / ', t('proposals.field_suggestion')),
        h('p', { class: 'p-text data-text' }, c.reason), h('p', { class: 'p-text data-text' }, c.suggestion)),
      d.notice ? h('p', { class: 'notice ok', role: 'status' }, d.notice) : null,
      errorLine(d.error),
      replyBlock(c.reply),
      open && c.status === 'following_up' ? h('p', { class: 'notice', id: `follow-up-${c.id}` }, t('cases.follow_up')) : null,
      open ? replyForm(c, d) : null,
      open && d.returning && c.status === 'assigned' ? returnForm(c, d) : null);
  }

  const heading = h('h2', { class: 'card-label', id: 'cases-h' }, t('cases.title'));

  function render() {
    heading.textContent = t('cases.title'); // again in the language now chosen
    // No cases: the slot stays hidden and the intro above says where they will appear.
    container.hidden = cases.length === 0;
    rebuild(list, () => (cases.length ? cases.map(caseCard) : h('p', { class: 'muted', id: 'cases-none' }, t('cases.none'))));
  }

  async function refresh() {
    try {
      cases = (await live.command('department_cases')).cases; // each case once, in its latest round
      render();
    } catch (error) {
      container.hidden = false;
      clear(list, errorLine(error.message));
    }
  }

  clear(container, heading, list);
  onEvents('proposal', debounce(refresh, 400));
  return { refresh, render };
}
