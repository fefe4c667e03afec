// A vote's stored result as people read it: the outcome in the server's words, a chart by group,
// and the figures (应到, 实到, issued, returned, valid, void). Used by every page that shows results.

import { barChart } from './chart.js';
import { h } from './dom.js';
import { optionLabel, t } from './i18n.js';

function methodLabel(method) {
  return method && method !== 'online' ? t(`result.${method}`) : '';
}

export function questionResult(question, { showGroups = true, headingLevel = 'h4' } = {}) {
  const legend = question.options.map((o) => ({ key: o.key, label: optionLabel(o) }));
  const totals = Object.fromEntries(question.options.map((o) => [o.key, o.count]));
  const rows = [{
    label: t('common.total'), total: question.eligible, counts: totals, isTotal: true,
    detail: `${t('attendance.eligible')} ${question.eligible}`,
  }];
  if (showGroups) {
    for (const g of question.groups || []) {
      const method = methodLabel(g.method);
      rows.push({
        label: method ? `${g.name}（${method}）` : g.name, total: g.eligible, counts: g.counts || {},
        detail: `${t('attendance.eligible')} ${g.eligible}`,
      });
    }
  }
  const threshold = question.required ? { value: question.required, label: t('result.threshold', { n: question.required }) } : null;
  const outcomeClass = question.passed === true ? 'passed' : question.passed === false ? 'failed' : '';
  return h('section', { class: 'result-question' },
    h(headingLevel, { class: 'question-text' }, question.text),
    question.words ? h('p', { class: ['outcome', outcomeClass] }, question.words) : null,
    question.elected?.length ? h('p', { class: 'elected' }, t('result.elected', { names: question.elected.join('、') })) : null,
    barChart({ caption: showGroups ? t('result.by_group') : null, legend, rows, threshold, restLabel: t('result.not_voting') }),
    h('p', { class: 'figures' }, t('result.figures', question)),
    ruleLine(question));
}

// The rule is stated as the rule, apart from the outcome above it: "通过规则：赞成票超过全体职工代表的
// 半数" under "…，未通过" (printed bare, it read as if it were the outcome). A rating is summed up,
// not decided by a rule, so it shows none.
const RULE_LABELS = { yes_no: 'result.rule_pass', election: 'result.rule_elect' };

function ruleLine(question) {
  const label = RULE_LABELS[question.kind ?? 'yes_no'];
  return question.rule && label ? h('p', { class: 'rule' }, t(label, { rule: question.rule })) : null;
}

/** The whole result of one vote. */
export function voteResult(vote, result, options = {}) {
  return h('div', { class: 'result' },
    result.void_round_words ? h('p', { class: 'notice bad' }, result.void_round_words) : null,
    result.quorum?.words ? h('p', { class: 'quorum-words' }, result.quorum.words) : null,
    result.questions.map((q) => questionResult(q, options)),
    vote.certified_by ? h('p', { class: 'certified' }, t('result.certified_by', { name: vote.certified_by })) : null);
}
