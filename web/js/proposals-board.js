// 提案公开栏 on the watch page: search and filter the submitted proposals, with the department and
// the published reply. Read once with `proposal_board`, then kept live by the public proposal.*
// events, which carry what an entry shows (docs/protocol.md): thousands of observers must not all
// read the board again on every event of a filing burst. Only a typed search is read again (the
// text is searched on the server), and a fresh snapshot (after a long disconnect) reads it all.

import { clear, data, field, h, region } from './dom.js';
import { t, term, tx } from './i18n.js';
import {
  categories, categoryTag, debounce, errorLine, filingKey, filingLine, numberText, PUBLIC_STATUSES, replyBlock, statusLabel,
  statusTag,
} from './proposals-common.js';
import { onEvents } from './state.js';

export function boardEntry(p) {
  return h('li', { class: 'p-board-item', dataset: { proposalId: p.id } },
    h('p', { class: 'p-title' }, numberText(p) ? h('span', { class: 'p-number' }, numberText(p), ' ') : null, h('strong', { class: 'data-text' }, p.title)),
    h('p', { class: 'p-meta' }, statusTag(p), categoryTag(p.category, 'p-category'),
      p.is_key ? h('span', { class: 'tag' }, t('board.key')) : null,
      // 上次会议转入 (docs/terms.md): the session and number it came from
      p.carried_from ? h('span', { class: 'tag p-carried' }, tx('board.carried', {
        session: data(p.carried_from.session), number: p.carried_from.number })) : null),
    h('p', { class: 'hint' }, [tx('board.proposer', { name: data(p.proposer) }), data(p.group),
      p.lead_department ? tx('board.department', { name: data(p.lead_department) }) : null]
      .filter(Boolean).flatMap((part, i) => (i ? [' · ', part] : [part]))),
    replyBlock(p.reply));
}

/** Fills the board slot; `store` gives the categories, `live` reads the board. */
export function mountBoard(container, store, live) {
  const filters = { query: '', category: '', status: '' };
  const query = h('input', { type: 'search', id: 'board-query', autocomplete: 'off' });
  const category = h('select', { id: 'board-category' });
  const status = h('select', { id: 'board-status' });
  const list = h('div', { class: 'p-board-list', id: 'board-list', 'aria-live': 'polite' });
  const heading = h('h2', { class: 'card-label', id: 'board-h' }, t('board.title'));
  const windowSlot = h('div', { class: 'p-board-window' }); // 提案征集, from the snapshot and its event
  const fields = [[field(t('board.search'), query), 'board.search'], [field(t('board.category'), category), 'board.category'],
    [field(t('board.status'), status), 'board.status']];
  const form = h('form', { class: 'p-filters', role: 'search' },
    fields[0][0], h('div', { class: 'p-filter-row' }, fields[1][0], fields[2][0]));
  let seq = 0;
  let started = false;
  let entries = new Map(); // proposal id -> board entry, as read or as the events since left it
  let arrivedDuringRead = null; // events that came while a read was on its way: applied again on top

  // The filters' choices in the current language (their values stay the server's: a category's
  // Chinese name, a status code).
  function fillChoices() {
    const chosen = category.value;
    clear(category, h('option', { value: '' }, t('board.all')),
      categories(store.state).map((c) => h('option', { value: c, selected: c === chosen }, term('category', c))));
    const chosenStatus = status.value;
    clear(status, h('option', { value: '' }, t('board.all')),
      PUBLIC_STATUSES.map((s) => h('option', { value: s, selected: s === chosenStatus }, statusLabel(s))));
  }

  function render() {
    const items = [...entries.values()]
      .filter((p) => (!filters.category || p.category === filters.category) && (!filters.status || p.status === filters.status))
      .sort((a, b) => (a.number || 0) - (b.number || 0));
    clear(list, h('p', { class: 'hint', id: 'board-count' }, t('board.count', { n: items.length })),
      items.length ? h('ul', { class: 'p-board' }, items.map(boardEntry)) : h('p', { class: 'muted' }, t('board.none')));
  }

  // Category and status filter what was read; a search reads the matching proposals.
  async function refresh() {
    seq += 1;
    const mine = seq;
    const args = { limit: 2000 };
    if (filters.query.trim()) args.query = filters.query.trim();
    arrivedDuringRead = [];
    try {
      const result = await live.command('proposal_board', args);
      if (mine !== seq) return;
      entries = new Map(result.proposals.map((p) => [p.id, p]));
      const arrived = arrivedDuringRead;
      arrivedDuringRead = null;
      for (const event of arrived) patch(event);
      render();
    } catch (error) {
      if (mine === seq) {
        arrivedDuringRead = null;
        clear(list, errorLine(error.message));
      }
    }
  }
  const later = debounce(refresh, 400);

  // False: the event is about an entry this page never read (read them all again).
  function patch(event) {
    const p = event.payload;
    const known = entries.get(p.id);
    if (known) Object.assign(known, p);
    else if (event.type === 'proposal.submitted') entries.set(p.id, { ...p });
    else return false;
    return true;
  }

  function apply(event) {
    const p = event.payload || {};
    if (!p.id || !PUBLIC_STATUSES.includes(p.status)) return; // not a board entry (a draft, a notice)
    if (filters.query.trim()) { later(); return; } // whether it matches the search: the server knows
    if (arrivedDuringRead) arrivedDuringRead.push(event); // the read may predate it
    if (patch(event)) render();
    else later();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    filters.query = query.value;
    refresh();
  });
  query.addEventListener('input', () => { filters.query = query.value; later(); });
  category.addEventListener('change', () => { filters.category = category.value; render(); });
  status.addEventListener('change', () => { filters.status = status.value; render(); });
  onEvents('proposal', (_state, event) => { if (started) apply(event); });
  store.subscribe((change) => { if (started && change?.kind === 'hello' && !change.resumed) refresh(); });

  const updateWindow = region(windowSlot, () => filingKey(store.state), () => filingLine(store.state));

  return (force) => {
    if (!store.state) return;
    if (!started) {
      started = true;
      fillChoices();
      clear(container, heading, windowSlot, form, list);
      container.hidden = false;
      refresh();
    } else if (force) { // the language changed: the same entries, in the other language
      heading.textContent = t('board.title');
      for (const [box, key] of fields) box.querySelector('label').textContent = t(key);
      fillChoices();
      render();
    }
    updateWindow(force);
  };
}
