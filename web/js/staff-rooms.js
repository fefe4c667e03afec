// Staff: 分组讨论 — every group's room side by side for one agenda item (the current one unless
// staff pick another), read-only: who said what and when, pinned and hidden messages (with why and
// by whom). Read with the staff-only op `group_rooms`; read again on room.* events (debounced)
// while the view is shown. Message text goes in as text, never as HTML.

import { clear, data, field, formatTime, h, region } from './dom.js';
import { t, tx } from './i18n.js';
import { debounce } from './proposals-common.js';
import { currentItem, onEvents } from './state.js';

export function mountStaffRooms(root, { store, live }) {
  const ui = { itemId: null, table: null, error: null, asked: null, stale: true };
  const head = h('div');
  const grid = h('div');
  let built = false;

  function itemId() {
    const agenda = store.state.agenda;
    if (ui.itemId && agenda.some((a) => a.id === ui.itemId)) return ui.itemId;
    return currentItem(store.state)?.id ?? agenda[0]?.id ?? null;
  }

  async function load() {
    const id = itemId();
    ui.asked = id;
    ui.stale = false;
    try {
      const table = await live.command('group_rooms', id ? { agenda_item_id: id } : {});
      if (ui.asked === id) {
        ui.table = table;
        ui.error = null;
      }
    } catch (error) {
      ui.error = error.message;
    }
    gridRegion();
  }

  function loadIfShown() {
    if (root.hidden) ui.stale = true; // read when shown again
    else load();
  }

  function messageView(m) {
    if (m.is_hidden) {
      return h('li', { class: 'msg is-hidden', dataset: { id: m.id } },
        h('p', { class: 'msg-stub' }, t('room.hidden_stub')),
        m.hidden_reason ? h('p', { class: 'hint' }, tx('room.hidden_by', { by: data(m.hidden_by || ''), reason: data(m.hidden_reason) })) : null);
    }
    return h('li', { class: ['msg', m.is_pinned ? 'is-pinned' : null, m.is_staff_author ? 'is-staff' : null], dataset: { id: m.id } },
      h('div', { class: 'msg-head' },
        h('strong', { class: 'msg-author data-text' }, m.author_name),
        m.is_staff_author ? h('span', { class: 'tag' }, t('room.staff')) : null,
        m.is_pinned ? h('span', { class: 'tag tag-pin' }, t('room.pinned')) : null,
        h('time', { class: 'msg-time', datetime: m.created_at }, formatTime(m.created_at))),
      h('p', { class: 'msg-text data-text' }, m.text));
  }

  function groupCard(g) {
    const shown = g.messages.filter((m) => !m.is_hidden).length;
    return h('article', { class: 'card staff-room', dataset: { group: g.group_id }, 'aria-labelledby': `staff-room-${g.group_id}` },
      h('h3', { id: `staff-room-${g.group_id}` }, data(g.group), ' ', h('span', { class: 'tag' }, t('rooms.count', { n: shown }))),
      g.messages.length ? h('ul', { class: 'msgs' }, g.messages.map(messageView)) : h('p', { class: 'muted' }, t('room.empty')));
  }

  const headRegion = region(head, () => [store.state.agenda.map((a) => [a.id, a.title]), itemId()], () => {
    if (!store.state.agenda.length) return h('p', { class: 'muted' }, t('rooms.no_agenda'));
    const select = h('select', { id: 'rooms-item' }, store.state.agenda.map((a) =>
      h('option', { value: a.id, selected: a.id === itemId(), class: 'data-text' },
        `${a.position ?? ''}. ${a.title}${a.id === currentItem(store.state)?.id ? ` ${t('rooms.current')}` : ''}`)));
    select.addEventListener('change', () => {
      ui.itemId = Number(select.value);
      ui.table = null;
      headRegion();
      load();
    });
    return field(t('opinion.item'), select);
  });

  const gridRegion = region(grid, () => [ui.table, ui.error], () => {
    if (ui.error) return h('p', { class: 'notice bad', role: 'alert' }, ui.error);
    if (!ui.table) return h('p', { class: 'muted' }, t('common.loading'));
    return h('div', { class: 'staff-room-grid', id: 'staff-rooms' }, ui.table.groups.map(groupCard));
  });

  onEvents('room', debounce(loadIfShown, 400));

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      clear(root, h('h2', {}, t('staff.nav.rooms')), h('p', { class: 'hint' }, t('rooms.read_only')), head, grid);
      built = true;
    }
    headRegion(force);
    if (!root.hidden && (ui.stale || ui.asked !== itemId())) load();
    gridRegion(force);
  };
}
