// Pieces several pages show the same way: the current agenda item, 应到/实到 with the quorum,
// and a vote's progress (counts only).

import { h } from './dom.js';
import { t, term } from './i18n.js';
import { currentItem, quorum } from './state.js';

export function currentItemCard(state, { headingLevel = 'h2' } = {}) {
  const item = currentItem(state);
  return h('section', { class: 'card current-item', 'aria-labelledby': 'current-item-h' },
    h(headingLevel, { id: 'current-item-h', class: 'card-label' }, t('agenda.current')),
    item
      ? [h('p', { class: 'item-kind' }, term('agenda_kind', item.kind)),
        h('p', { class: 'item-title data-text' }, item.title),
        item.description ? h('p', { class: 'item-description data-text' }, item.description) : null,
        item.names?.length ? h('ul', { class: 'names', 'aria-label': t('agenda.names') }, item.names.map((n) => h('li', {}, n))) : null]
      : h('p', { class: 'item-title muted' }, t('agenda.none')));
}

export function quorumLine(state) {
  const q = quorum(state);
  return h('p', { class: ['quorum', q.met ? 'ok' : 'warn'] },
    t(q.met ? 'attendance.quorum_met' : 'attendance.quorum_not_met', { fraction: q.fraction, required: q.required }));
}

export function attendanceCard(state, { byGroup = false, headingLevel = 'h2' } = {}) {
  const { eligible, present } = state.attendance;
  return h('section', { class: 'card attendance', 'aria-labelledby': 'attendance-h' },
    h(headingLevel, { id: 'attendance-h', class: 'card-label' }, t('attendance.title')),
    h('dl', { class: 'figures-big' },
      h('div', {}, h('dt', {}, t('attendance.eligible')), h('dd', { id: 'figure-eligible' }, String(eligible))),
      h('div', {}, h('dt', {}, t('attendance.present')), h('dd', { id: 'figure-present' }, String(present)))),
    quorumLine(state),
    byGroup ? groupTable(state) : null);
}

function groupTable(state) {
  return h('table', { class: 'compact' },
    h('caption', {}, t('attendance.by_group')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('common.group')),
      h('th', { scope: 'col', class: 'num' }, t('attendance.present')),
      h('th', { scope: 'col', class: 'num' }, t('attendance.eligible')))),
    h('tbody', {}, state.attendance.groups.map((g) => h('tr', {},
      h('th', { scope: 'row', class: 'data-text' }, g.name), h('td', { class: 'num' }, String(g.present)), h('td', { class: 'num' }, String(g.eligible))))));
}

/** A vote's progress from `progress` messages: ballots in, against present and eligible. */
export function progressBlock(progress, { byGroup = false } = {}) {
  if (!progress) return null;
  const share = progress.present ? Math.round((100 * progress.cast) / progress.present) : 0;
  return h('div', { class: 'progress-block' },
    h('p', { class: 'progress-line' }, t('vote.progress_line', progress)),
    h('progress', { max: Math.max(1, progress.present), value: progress.cast, 'aria-label': t('vote.progress') }, `${share}%`),
    byGroup ? h('table', { class: 'compact' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('votes.col_group')),
        h('th', { scope: 'col', class: 'num' }, t('votes.col_cast')))),
      h('tbody', {}, progress.groups.map((g) => h('tr', {}, h('th', { scope: 'row', class: 'data-text' }, g.name),
        h('td', { class: 'num' }, g.mode === 'hand_count'
          ? (g.reported ? t('votes.reported') : t('votes.not_reported'))
          : `${g.cast} / ${g.present} / ${g.eligible}`))))) : null);
}
