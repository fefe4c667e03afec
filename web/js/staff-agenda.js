// Staff: the agenda — add items, reorder them, move the congress to an item (set current).

import { clear, field, h, region } from './dom.js';
import { t, term } from './i18n.js';

const KINDS = ['审议', '审议通过', '审议决定', '选举', '民主评议', '确认', '名单'];

export function mountAgenda(root, { store, live }) {
  let built = false;
  let list;
  let statusLine;

  async function run(op, args, focusId) {
    statusLine.className = 'form-status';
    statusLine.textContent = t('common.sending');
    try {
      await live.command(op, args);
      statusLine.className = 'form-status ok';
      statusLine.textContent = t('common.saved');
      if (focusId) queueMicrotask(() => document.getElementById(focusId)?.focus());
      return true;
    } catch (error) {
      statusLine.className = 'form-status bad';
      statusLine.textContent = t('common.error', { message: error.message });
      return false;
    }
  }

  function itemRow(item, index, items) {
    const isCurrent = store.state.congress.current_agenda_item_id === item.id;
    return h('li', { class: ['agenda-row', `status-${item.status}`], 'aria-current': isCurrent ? 'step' : null },
      h('div', { class: 'agenda-main' },
        h('span', { class: 'agenda-pos' }, `${index + 1}.`),
        h('span', { class: 'agenda-kind' }, term('agenda_kind', item.kind)),
        h('span', { class: 'agenda-title data-text' }, item.title),
        h('span', { class: ['tag', isCurrent ? 'tag-current' : null] },
          isCurrent ? t('agenda.is_current') : t(item.status === 'done' ? 'agenda.done' : 'agenda.pending')),
        item.description ? h('p', { class: 'hint data-text' }, item.description) : null),
      h('div', { class: 'agenda-actions' },
        h('button', { type: 'button', class: 'small', id: `up-${item.id}`, disabled: index === 0, 'aria-label': `↑ ${item.title}`,
          on: { click: () => run('move_agenda_item', { item_id: item.id, position: index }, `up-${item.id}`) } }, '↑'),
        h('button', { type: 'button', class: 'small', id: `down-${item.id}`, disabled: index === items.length - 1, 'aria-label': `↓ ${item.title}`,
          on: { click: () => run('move_agenda_item', { item_id: item.id, position: index + 2 }, `down-${item.id}`) } }, '↓'),
        isCurrent ? null : h('button', { type: 'button', class: 'small primary', id: `current-${item.id}`,
          on: { click: () => run('set_current_item', { item_id: item.id }) } }, t('agenda.set_current'))));
  }

  function build() {
    const kind = h('select', { id: 'agenda-kind' }, KINDS.map((k) => h('option', { value: k }, term('agenda_kind', k))));
    const title = h('input', { type: 'text', id: 'agenda-title', required: true, maxlength: 300 });
    const description = h('textarea', { id: 'agenda-description', rows: 2 });
    const form = h('form', { class: 'card', 'aria-labelledby': 'agenda-add-h' },
      h('h3', { id: 'agenda-add-h' }, t('agenda.add')),
      h('div', { class: 'row' }, field(t('agenda.kind'), kind), h('div', { class: 'grow' }, field(t('agenda.item_title'), title))),
      field(t('agenda.description'), description),
      h('button', { type: 'submit', class: 'primary' }, t('agenda.add')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (await run('add_agenda_item', { kind: kind.value, title: title.value, description: description.value })) {
        title.value = '';
        description.value = '';
        title.focus();
      }
    });
    list = h('div');
    statusLine = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
    clear(root, h('h2', {}, t('staff.nav.agenda')),
      h('section', { class: 'card', 'aria-labelledby': 'agenda-list-h' },
        h('h3', { id: 'agenda-list-h' }, t('agenda.title')), statusLine, list,
        h('button', { type: 'button', class: 'small', on: { click: () => run('set_current_item', {}) } }, t('agenda.clear_current'))),
      form);
    listRegion = region(list, () => [store.state.agenda, store.state.congress.current_agenda_item_id],
      () => h('ol', { class: 'agenda-rows', id: 'agenda-rows' }, store.state.agenda.map(itemRow)));
  }
  let listRegion = null;

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      build();
      built = true;
    }
    listRegion(force);
  };
}
