// A vote's stored result as people read it: the outcome in the server's words, a chart by group,
// and the figures (应到, 实到, issued, returned, valid, void). Used by every page that shows results.
//
// The outcome sentences (赞成 201 票，超过全体职工代表 295 人的半数（148 票），通过) are composed by
// the server in Chinese and are part of the official record: they are shown as they come. In
// English the page first says the outcome in English, built here from the result's figures
// (passed, required, counts, elected), and the official Chinese words follow underneath, marked
// lang="zh-CN" — the same order for every page that shows a result (officialWords).

import { barChart } from './chart.js';
import { data, h } from './dom.js';
import { lang, optionLabel, t, tx } from './i18n.js';

const TRANSLATED_OPTIONS = ['yes', 'no', 'abstain'];

function methodLabel(method) {
  return method && method !== 'online' ? t(`result.${method}`) : '';
}

/**
 * The server's Chinese words with, in English, the English summary above them:
 * Chinese: <p class=…>words</p>. English: <p class=…>summary</p><p class=official-words>Official
 * wording: <span lang=zh-CN>words</span></p>. `summary` is null when there is nothing to say in
 * English (then only the official words show, labelled).
 */
export function officialWords(words, summary, { className = null, tag = 'p' } = {}) {
  if (!words) return null;
  if (lang() !== 'en') return h(tag, { class: className }, words);
  return [
    summary ? h(tag, { class: className }, summary) : null,
    h('p', { class: 'official-words' }, t('result.official'), ' ',
      h('span', { lang: 'zh-CN', class: 'lang-keep' }, words)),
  ];
}

// 1/2 → half, 2/3 → two thirds, 51/100 → 51%, 1 → all: the share of a rule, as the server's
// fraction_words says it in Chinese.
function shareWords(fraction) {
  const [n, d = 1] = String(fraction || '1/2').split('/').map(Number);
  if (n === d) return t('rule.share_all');
  if (n === 1 && d === 2) return t('rule.share_half');
  if (n === 2 && d === 3) return t('rule.share_two_thirds');
  if (d === 100) return t('rule.share_percent', { n });
  return `${n}/${d}`;
}

/** A question's rule (from the vote: {basis, threshold, is_strict}) in words of the current language. */
export function ruleWords(rule, kind = 'yes_no') {
  if (!rule) return null;
  return t('rule.line', {
    subject: t(kind === 'election' ? 'rule.subject_election' : 'rule.subject_yes_no'),
    verb: t(rule.is_strict === false ? 'rule.at_least' : 'rule.more_than'),
    share: shareWords(rule.threshold),
    basis: t(`rule.basis.${rule.basis || 'all_voting'}`),
  });
}

function countOf(question, key) {
  return question.options.find((o) => o.key === key)?.count ?? 0;
}

/** The outcome of one question in English, from its figures (the server's words stay Chinese). */
function summary(question, { voidRound = false } = {}) {
  if (voidRound) return t('result.summary_void');
  const kind = question.kind ?? 'yes_no';
  if (kind === 'yes_no' && typeof question.passed === 'boolean') {
    return t(question.passed ? 'result.summary_passed' : 'result.summary_failed',
      { yes: countOf(question, 'yes'), required: question.required });
  }
  if (kind === 'election') {
    const elected = question.elected?.length ?? 0;
    const parts = [elected
      ? t('result.summary_elected', { n: elected, seats: elected + (question.unfilled_seats ?? 0), required: question.required })
      : t('result.summary_none_elected', { required: question.required })];
    if (question.tied_for_last?.length) parts.push(t('result.summary_tied', { n: question.tied_for_last.length }));
    if (question.unfilled_seats) parts.push(t('result.summary_unfilled', { n: question.unfilled_seats }));
    return parts.join(' ');
  }
  if (kind === 'rating') {
    const total = question.options.reduce((sum, o) => sum + (o.count || 0), 0);
    return total ? t('result.summary_rating', { n: total }) : t('result.summary_rating_none');
  }
  return null;
}

/** A question's outcome: the server's words, and in English the summary above them. */
export function questionOutcome(question, { voidRound = false, className = null } = {}) {
  return officialWords(question.words, summary(question, { voidRound }), { className });
}

/**
 * One question's result. `rule`: the question's rule as the vote states it ({basis, threshold,
 * is_strict}), so it reads in the page's language; without it the server's Chinese rule shows.
 */
export function questionResult(question, { showGroups = true, headingLevel = 'h4', rule = null, voidRound = false } = {}) {
  const legend = question.options.map((o) => ({ key: o.key, label: optionLabel(o), isData: !TRANSLATED_OPTIONS.includes(o.key) }));
  const totals = Object.fromEntries(question.options.map((o) => [o.key, o.count]));
  const rows = [{
    label: t('common.total'), total: question.eligible, counts: totals, isTotal: true,
    detail: `${t('attendance.eligible')} ${question.eligible}`,
  }];
  if (showGroups) {
    for (const g of question.groups || []) {
      const method = methodLabel(g.method);
      // A pool of small groups counted together: the server names it 'A、B（合并计票）'.
      const pooled = g.group_ids?.length > 1;
      const name = pooled ? g.name.replace(/（合并计票）$/, '') : g.name;
      rows.push({
        label: [data(name), pooled ? t('result.pooled') : '',
          method ? t('result.method', { method }) : ''],
        total: g.eligible, counts: g.counts || {}, detail: `${t('attendance.eligible')} ${g.eligible}`,
      });
    }
  }
  const threshold = question.required ? { value: question.required, label: t('result.threshold', { n: question.required }) } : null;
  const outcomeClass = question.passed === true ? 'passed' : question.passed === false ? 'failed' : '';
  return h('section', { class: 'result-question' },
    h(headingLevel, { class: 'question-text data-text' }, question.text),
    questionOutcome(question, { voidRound, className: ['outcome', outcomeClass] }),
    question.elected?.length ? h('p', { class: 'elected' }, tx('result.elected', { names: data(question.elected.join('、')) })) : null,
    barChart({ caption: showGroups ? t('result.by_group') : null, legend, rows, threshold, restLabel: t('result.not_voting') }),
    h('p', { class: 'figures' }, t('result.figures', question)),
    ruleLine(question, rule));
}

// The rule is stated as the rule, apart from the outcome above it: "通过规则：赞成票超过全体职工代表的
// 半数" under "…，未通过" (printed bare, it read as if it were the outcome). A rating is summed up,
// not decided by a rule, so it shows none.
const RULE_LABELS = { yes_no: 'result.rule_pass', election: 'result.rule_elect' };

function ruleLine(question, rule) {
  const kind = question.kind ?? 'yes_no';
  const label = RULE_LABELS[kind];
  if (!question.rule || !label) return null;
  // Chinese: the server's words. English: the same rule from the vote's figures.
  const words = lang() === 'en' ? ruleWords(rule, kind) : null;
  return h('p', { class: 'rule' }, tx(label, { rule: words ?? h('span', { lang: 'zh-CN', class: 'lang-keep' }, question.rule) }));
}

/** The quorum at the vote in English, from its figures (the server's words: quorum.words). */
function quorumSummary(result) {
  const q = result.quorum;
  if (typeof q?.met !== 'boolean') return null;
  return t(q.met ? 'result.quorum_met' : 'result.quorum_not_met',
    { present: result.present, eligible: result.eligible, required: q.required });
}

/** The whole result of one vote. */
export function voteResult(vote, result, options = {}) {
  const rules = rulesOf(vote);
  const voidRound = Boolean(result.is_void_round);
  return h('div', { class: 'result' },
    officialWords(result.void_round_words, t('result.summary_void'), { className: 'notice bad' }),
    officialWords(result.quorum?.words, quorumSummary(result), { className: 'quorum-words' }),
    result.questions.map((q) => questionResult(q, { ...options, rule: rules[q.question_id] ?? null, voidRound })),
    vote.certified_by ? h('p', { class: 'certified' }, tx('result.certified_by', { name: data(vote.certified_by) })) : null);
}

/** The rules of a vote's questions by question id, for questionResult's `rule`. */
export function rulesOf(vote) {
  return Object.fromEntries((vote?.questions || []).map((q) => [q.id, q.rule]));
}
