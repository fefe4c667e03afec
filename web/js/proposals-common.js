// What the proposal pages share (提案网上建): status labels as the server words them, the reply
// block, a debounced refresher and a small error line. Every text goes in through dom.js (textContent).

import { countFields } from './counter.js';
import { h } from './dom.js';
import { lang, t, term } from './i18n.js';
import { filingWindow } from './state.js';

// A proposal's status as people read it, from its code: the server's status_label is Chinese, so
// in English the code is looked up here (pstatus.* in i18n.js); an unknown code shows as given.
export const STATUSES = ['draft', 'pre_review', 'submitted', 'registered', 'merged', 'forwarded', 'rejected',
  'to_agenda', 'assigned', 'replied', 'following_up', 'closed'];

export function statusLabel(status, serverLabel = null) {
  if (lang() !== 'en' && serverLabel) return serverLabel;
  return STATUSES.includes(status) ? t(`pstatus.${status}`) : (serverLabel || status);
}
export const PUBLIC_STATUSES = ['submitted', 'registered', 'merged', 'forwarded', 'rejected', 'to_agenda', 'assigned',
  'replied', 'following_up', 'closed'];
export const CATEGORIES = ['战略发展', '改革创新', '生产技术', '安全环保', '经营管理', '职工权益', '生活福利', '民主管理', '教育培训'];
export const REPLY_CLASSES = ['A', 'B', 'C', 'D'];

/** A reply class's meaning (A: 已解决或基本解决 …) in the current language. */
export function replyClassLabel(replyClass, serverLabel = null) {
  if (lang() !== 'en' && serverLabel) return serverLabel;
  return REPLY_CLASSES.includes(replyClass) ? t(`reply_class.${replyClass}`) : (serverLabel || '');
}
export const DECISIONS = ['立案', '合并立案', '转为意见建议', '不予立案', '转为议案'];
export const RATINGS = ['满意', '基本满意', '不满意'];
// The filing form's limits, as the server checks them (congress/domain/proposals.py, check_filing_text)
export const FILING_LIMITS = { title: 100, reason: 3000, suggestion: 3000 };

/** Counters as people type in the draft form (#pf-title, #pf-reason, #pf-suggestion) under `root`. */
export function countFilingFields(root) {
  countFields(root, { 'pf-title': FILING_LIMITS.title, 'pf-reason': FILING_LIMITS.reason,
    'pf-suggestion': FILING_LIMITS.suggestion });
}

export function categories(state) {
  const given = state?.congress?.rules?.categories;
  return Array.isArray(given) && given.length ? given : CATEGORIES;
}

export function statusTag(p) {
  return h('span', { class: ['tag', 'p-status', `p-status-${p.status}`] }, statusLabel(p.status, p.status_label));
}

/** A proposal's category as a tag (a known category in the current language; one a congress
 * added itself is its own name, people's words), or null. */
export function categoryTag(category, className = null) {
  if (!category) return null;
  const shown = term('category', category);
  return h('span', { class: ['tag', className, shown === category ? 'data-text' : null] }, shown);
}

export function numberText(p) {
  return p.number ? t('proposals.number', { n: p.number }) : '';
}

export function replyBlock(reply) {
  if (!reply) return null;
  return h('div', { class: 'p-reply' },
    h('p', { class: 'p-reply-class' }, t('proposals.reply'), ' ',
      h('strong', {}, `${reply.reply_class} · ${replyClassLabel(reply.reply_class, reply.class_label)}`)),
    h('p', { class: 'p-reply-text data-text' }, reply.text),
    reply.replied_by ? h('p', { class: 'hint data-text' }, reply.replied_by) : null);
}

export function errorLine(message) {
  return message ? h('p', { class: 'notice bad', role: 'alert' }, message) : null;
}

/** fn() at most once per `ms`, after the last call. */
export function debounce(fn, ms = 400) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

/** A due date (YYYY-MM-DD) as an ISO date-time at 18:00 with the browser's zone, e.g. 2027-01-31T18:00:00+08:00. */
export function dueIso(date) {
  if (!date) return null;
  const local = new Date(`${date}T18:00:00`);
  const offset = -local.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date}T18:00:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function dateText(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(document.documentElement.lang || 'zh-CN');
}

// 提案征集 (set_filing_window) in the page's language: "3 月 1 日 08:00" / "Mar 1, 08:00", local time.
function filingTime(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  if (lang() === 'zh-CN') return `${d.getMonth() + 1} 月 ${d.getDate()} 日 ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.toLocaleString('en', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

/** The filing window and where it stands now — after the close, what a new proposal becomes by
 * the rule late_proposals (平时提案, or refused); null while no window is set. */
export function filingLine(state) {
  const { opens_at: opens, closes_at: closes } = state?.congress?.filing || {};
  if (!opens && !closes) return null;
  const span = opens && closes ? t('filing.window', { opens: filingTime(opens), closes: filingTime(closes) })
    : opens ? t('filing.from', { opens: filingTime(opens) }) : t('filing.until', { closes: filingTime(closes) });
  const now = filingWindow(state);
  const refuse = state.congress.rules?.late_proposals === 'refuse';
  const where = now === 'closed' ? t(refuse ? 'filing.closed_refuse' : 'filing.closed_between') : t(`filing.${now}`);
  return h('p', { class: ['notice', 'p-filing-window', now === 'open' ? 'ok' : 'warn'], role: 'status' },
    h('strong', {}, span), ' ', where);
}

/** What decides whether filingLine must be drawn again: the window, the rule, and where it stands now. */
export function filingKey(state) {
  return state?.congress ? [state.congress.filing, state.congress.rules?.late_proposals, filingWindow(state), lang()] : null;
}
