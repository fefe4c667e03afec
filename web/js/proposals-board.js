// 提案公开栏 on the watch page: search and filter the submitted proposals, with the department and
// the published reply. Read with `proposal_board`, refreshed (debounced) on every proposal.* event.

import { clear, field, h } from './dom.js';
import { t } from './i18n.js';
import {
  categories, debounce, errorLine, numberText, PUBLIC_STATUSES, replyBlock, STATUS_LABELS, statusTag,
} from './proposals-common.js';
import { onEvents } from './state.js';

export function boardEntry(p) {
  return h('li', { class: 'p-board-item', dataset: { proposalId: p.id } },
    h('p', { class: 'p-title' }, numberText(p) ? h('span', { class: 'p-number' }, numberText(p), ' ') : null, h('strong', {}, p.title)),
    h('p', { class: 'p-meta' }, statusTag(p), p.category ? h('span', { class: 'tag p-category' }, p.category) : null,
      p.is_key ? h('span', { class: 'tag' }, '重点') : null),
    h('p', { class: 'hint' }, [t('board.proposer', { name: p.proposer }), p.group,
      p.lead_department ? t('board.department', { name: p.lead_department }) : null].filter(Boolean).join(' · ')),
    replyBlock(p.reply));
}

/** Fills the board slot; `store` gives the categories, `live` reads the board. */
export function mountBoard(container, store, live) {
  const filters = { query: '', category: '', status: '' };
  const query = h('input', { type: 'search', id: 'board-query', autocomplete: 'off' });
  const category = h('select', { id: 'board-category' });
  const status = h('select', { id: 'board-status' },
    h('option', { value: '' }, t('board.all')),
    PUBLIC_STATUSES.map((s) => h('option', { value: s }, STATUS_LABELS[s])));
  const list = h('div', { class: 'p-board-list', id: 'board-list', 'aria-live': 'polite' });
  const heading = h('h2', { class: 'card-label', id: 'board-h' }, t('board.title'));
  const form = h('form', { class: 'p-filters', role: 'search' },
    field(t('board.search'), query),
    h('div', { class: 'p-filter-row' }, field(t('board.category'), category), field(t('board.status'), status)));
  let seq = 0;

  function fillCategories() {
    const chosen = category.value;
    clear(category, h('option', { value: '' }, t('board.all')),
      categories(store.state).map((c) => h('option', { value: c, selected: c === chosen }, c)));
  }

  async function refresh() {
    seq += 1;
    const mine = seq;
    const args = {};
    if (filters.query.trim()) args.query = filters.query.trim();
    if (filters.category) args.category = filters.category;
    if (filters.status) args.status = filters.status;
    try {
      const result = await live.command('proposal_board', args);
      if (mine !== seq) return;
      const items = result.proposals;
      clear(list, h('p', { class: 'hint', id: 'board-count' }, t('board.count', { n: items.length })),
        items.length ? h('ul', { class: 'p-board' }, items.map(boardEntry)) : h('p', { class: 'muted' }, t('board.none')));
    } catch (error) {
      if (mine === seq) clear(list, errorLine(error.message));
    }
  }
  const later = debounce(refresh, 400);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    filters.query = query.value;
    refresh();
  });
  query.addEventListener('input', () => { filters.query = query.value; later(); });
  category.addEventListener('change', () => { filters.category = category.value; refresh(); });
  status.addEventListener('change', () => { filters.status = status.value; refresh(); });
  onEvents('proposal', () => later());

  let started = false;
  return (force) => {
    if (!store.state) return;
    if (!started) {
      started = true;
      fillCategories();
      clear(container, heading, form, list);
      container.hidden = false;
      refresh();
    } else if (force) {
      heading.textContent = t('board.title');
      fillCategories();
      refresh();
    }
  };
}
