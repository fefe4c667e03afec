// The group's room (分组讨论): messages, pinned ones first, replies with the message they answer,
// hidden ones as a stub; a composer with the 1,000-character limit; for the group's leader pin /
// hide (with a reason). Message text is shown exactly as typed, through text nodes only — never
// as HTML (docs/protocol.md, "Group rooms").

import { counter } from './counter.js';
import { clear, data, formatTime, h, region, uid } from './dom.js';
import { t, tx } from './i18n.js';
import { mountOpinionPanel } from './opinions.js';
import { mountSpeakRequest } from './speakers.js';
import { currentItem, onEvents } from './state.js';

export const MAX_MESSAGE_CHARS = 1000;
export const MAX_REASON_CHARS = 500; // a hide reason, as the server checks it (congress/actions/rooms.py)
const HISTORY = 200;

function rooms(state) {
  if (!state.room) state.room = [];
  return state.room;
}

export function roomOf(state, groupId) {
  return rooms(state).find((r) => r.group_id === groupId) || null;
}

function ensureRoom(state, groupId) {
  let room = roomOf(state, groupId);
  if (!room) {
    const name = state.attendance?.groups.find((g) => g.group_id === groupId)?.name ?? '';
    room = { group_id: groupId, group: name, messages: [] };
    rooms(state).push(room);
  }
  return room;
}

function findMessage(state, id) {
  for (const room of rooms(state)) {
    const message = room.messages.find((m) => m.id === id);
    if (message) return { room, message };
  }
  return {};
}

onEvents('room', (state, event) => {
  const p = event.payload;
  switch (event.type) {
    case 'room.message_posted': {
      const room = ensureRoom(state, p.group_id);
      if (!room.messages.some((m) => m.id === p.id)) room.messages.push({ ...p });
      if (room.messages.length > HISTORY) room.messages.splice(0, room.messages.length - HISTORY);
      break;
    }
    case 'room.message_pinned': {
      const { message } = findMessage(state, p.message_id);
      if (message) message.is_pinned = p.is_pinned;
      break;
    }
    case 'room.message_hidden': {
      const { room, message } = findMessage(state, p.message.id);
      if (message) {
        const keep = { hidden_reason: message.hidden_reason, hidden_by: message.hidden_by };
        room.messages[room.messages.indexOf(message)] = { ...p.message, ...(keep.hidden_by ? keep : {}) };
      }
      break;
    }
    case 'room.hide_recorded': {
      const { message } = findMessage(state, p.message_id);
      if (message) Object.assign(message, { hidden_reason: p.hidden_reason, hidden_by: p.hidden_by });
      break;
    }
    default:
      break;
  }
});

function quoteOf(room, id) {
  const quoted = room.messages.find((m) => m.id === id);
  if (!quoted) return h('blockquote', { class: 'msg-quote' }, t('room.quote_missing'));
  if (quoted.is_hidden) return h('blockquote', { class: 'msg-quote' }, t('room.hidden_stub'));
  return h('blockquote', { class: 'msg-quote' },
    h('span', { class: 'msg-quote-author data-text' }, quoted.author_name), '：',
    h('span', { class: 'msg-quote-text' }, quoted.text.length > 120 ? `${quoted.text.slice(0, 120)}…` : quoted.text));
}

/**
 * A room: mount(root, {store, live, groupId: () => id, canModerate: () => bool, asStaff}).
 * Returns update(force).
 */
export function mountRoom(root, { store, live, groupId, canModerate, asStaff = false }) {
  const ui = { replyTo: null, hiding: null, error: null };
  const listBox = h('div', { class: 'room-list', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const replyBox = h('div', { class: 'room-reply' });
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const textId = uid('room-text');
  // No maxlength: a long paste stays whole and the count says how much to cut (counter.js).
  const text = h('textarea', { id: textId, rows: 3, class: 'room-text' });
  const count = counter(text, MAX_MESSAGE_CHARS, { className: 'room-counter' });
  const sendButton = h('button', { type: 'submit', class: 'primary', id: `${textId}-send` }, t('room.send'));
  let atBottom = true;

  function room() {
    return roomOf(store.state, groupId());
  }

  const showCount = count.update;

  function say(kind, message) {
    status.className = `form-status ${kind}`;
    status.textContent = message;
  }

  async function run(op, args) {
    say('', t('common.sending'));
    try {
      const result = await live.command(op, args);
      say('ok', '');
      return result || true;
    } catch (error) {
      say('bad', t('common.error', { message: error.message }));
      return null;
    }
  }

  const form = h('form', { class: 'room-composer' },
    h('label', { for: textId }, t('room.compose')),
    replyBox, text,
    h('div', { class: 'room-compose-bar' }, count.element, sendButton), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = text.value.trim();
    if (!body) {
      text.focus();
      return;
    }
    if (count.isOver()) { // said, not cut: the writer shortens it
      say('bad', count.refusal());
      text.focus();
      return;
    }
    const args = { text: body };
    if (ui.replyTo) args.reply_to_id = ui.replyTo;
    const item = currentItem(store.state);
    if (item) args.agenda_item_id = item.id;
    if (asStaff) args.group_id = groupId();
    sendButton.disabled = true;
    const done = await run('post_message', args);
    sendButton.disabled = false;
    if (done) {
      text.value = '';
      ui.replyTo = null;
      showCount();
      replyRegion();
      atBottom = true;
      text.focus();
    }
  });

  function messageView(message, r, { pinnedCopy = false } = {}) {
    const id = pinnedCopy ? `pin-${message.id}` : `msg-${message.id}`;
    if (message.is_hidden) {
      return h('li', { class: 'msg is-hidden', id, dataset: { id: message.id } },
        h('p', { class: 'msg-stub' }, t('room.hidden_stub')),
        asStaff && message.hidden_reason ? h('p', { class: 'hint' }, tx('room.hidden_by', { by: data(message.hidden_by || ''), reason: data(message.hidden_reason) })) : null);
    }
    const moderate = canModerate();
    const actions = [
      h('button', { type: 'button', class: 'small ghost', id: `${id}-reply`,
        on: { click: () => { ui.replyTo = message.id; replyRegion(); text.focus(); } } }, t('room.reply')),
    ];
    if (moderate) {
      actions.push(h('button', { type: 'button', class: 'small ghost', id: `${id}-pin`,
        on: { click: () => run('pin_message', { message_id: message.id, is_pinned: !message.is_pinned }) } },
      t(message.is_pinned ? 'room.unpin' : 'room.pin')));
      actions.push(h('button', { type: 'button', class: 'small ghost danger', id: `${id}-hide`,
        on: { click: () => { ui.hiding = message.id; listRegion(true); document.getElementById(`hide-reason-${message.id}`)?.focus(); } } }, t('room.hide')));
    }
    let hideForm = null;
    if (moderate && ui.hiding === message.id && !pinnedCopy) {
      const reason = h('input', { type: 'text', id: `hide-reason-${message.id}`, required: true });
      const reasonCount = counter(reason, MAX_REASON_CHARS);
      const refused = h('p', { class: 'form-status bad', role: 'status', 'aria-live': 'polite' });
      hideForm = h('form', { class: 'hide-form' },
        h('label', { for: reason.id }, t('room.hide_reason')), reason, reasonCount.element, refused,
        h('div', { class: 'doc-actions' },
          h('button', { type: 'submit', class: 'small danger' }, t('room.hide_confirm')),
          h('button', { type: 'button', class: 'small', on: { click: () => { ui.hiding = null; listRegion(true); } } }, t('common.cancel'))));
      hideForm.addEventListener('submit', async (e) => {
        e.preventDefault();
        if (!reason.value.trim()) return;
        if (reasonCount.isOver()) {
          refused.textContent = reasonCount.refusal();
          reason.focus();
          return;
        }
        if (await run('hide_message', { message_id: message.id, reason: reason.value })) {
          ui.hiding = null;
          listRegion(true);
        }
      });
    }
    return h('li', { class: ['msg', message.is_pinned ? 'is-pinned' : null, message.is_staff_author ? 'is-staff' : null], id, dataset: { id: message.id } },
      h('div', { class: 'msg-head' },
        h('strong', { class: 'msg-author data-text' }, message.author_name),
        message.is_staff_author ? h('span', { class: 'tag' }, t('room.staff')) : null,
        message.is_pinned ? h('span', { class: 'tag tag-pin' }, t('room.pinned')) : null,
        h('time', { class: 'msg-time', datetime: message.created_at }, formatTime(message.created_at))),
      message.reply_to_id ? quoteOf(r, message.reply_to_id) : null,
      h('p', { class: 'msg-text data-text' }, message.text), // a text node: "<script>" stays "<script>"
      h('div', { class: 'msg-actions' }, actions),
      hideForm);
  }

  const listRegion = region(listBox, () => {
    const r = room();
    return [r?.messages, ui.hiding, canModerate()];
  }, () => {
    const r = room();
    if (!r) return h('p', { class: 'muted' }, t('room.none'));
    const pinned = r.messages.filter((m) => m.is_pinned && !m.is_hidden);
    return [
      pinned.length ? h('section', { class: 'room-pinned', 'aria-label': t('room.pinned') },
        h('h4', {}, t('room.pinned')), h('ul', { class: 'msgs' }, pinned.map((m) => messageView(m, r, { pinnedCopy: true })))) : null,
      r.messages.length ? h('ul', { class: 'msgs', id: asStaff ? null : 'room-messages' }, r.messages.map((m) => messageView(m, r)))
        : h('p', { class: 'muted' }, t('room.empty')),
    ];
  });

  const replyRegion = region(replyBox, () => [ui.replyTo, ui.replyTo && findMessage(store.state, ui.replyTo).message], () => {
    if (!ui.replyTo) return null;
    const r = room();
    return h('div', { class: 'reply-to' }, h('span', { class: 'hint' }, t('room.replying')), r ? quoteOf(r, ui.replyTo) : null,
      h('button', { type: 'button', class: 'small', on: { click: () => { ui.replyTo = null; replyRegion(); text.focus(); } } }, t('room.reply_cancel')));
  });

  listBox.addEventListener('scroll', () => {
    atBottom = listBox.scrollTop + listBox.clientHeight >= listBox.scrollHeight - 24;
  });

  clear(root, listBox, form);
  showCount();

  return function update(force = false) {
    if (!store.state) return;
    const wasBottom = atBottom;
    listRegion(force);
    replyRegion(force);
    if (force) {
      sendButton.textContent = t('room.send');
      form.querySelector('label').textContent = t('room.compose');
      showCount();
    }
    if (wasBottom) listBox.scrollTop = listBox.scrollHeight;
  };
}

/** Delegate page: the room slot — the group's room, 发言, and for the leader the 审议意见 panel. */
export function mountGroupRoom(root, { store, live, opinionPanel = mountOpinionPanel, speakPanel = mountSpeakRequest }) {
  const roomBox = h('div');
  const speakBox = h('section', { class: 'speak-box', 'aria-label': t('speak.title') });
  const opinionBox = h('div');
  const me = () => store.state.me;
  let updates = null;

  return function update(force = false) {
    if (!store.state || !store.state.me) return;
    if (!updates || force) {
      speakBox.setAttribute('aria-label', t('speak.title'));
      const groupName = roomOf(store.state, me().group_id)?.group
        || store.state.attendance.groups.find((g) => g.group_id === me().group_id)?.name || '';
      clear(root, h('h2', { class: 'card-label', id: 'room-h' }, tx('room.title', { group: data(groupName) })), speakBox, roomBox, opinionBox);
      root.setAttribute('aria-labelledby', 'room-h');
      root.hidden = false;
      updates = [
        mountRoom(roomBox, { store, live, groupId: () => me().group_id, canModerate: () => Boolean(me().is_group_leader) }),
        speakPanel ? speakPanel(speakBox, { store, live }) : null,
        opinionPanel ? opinionPanel(opinionBox, { store, live }) : null,
      ].filter(Boolean);
    }
    for (const fn of updates) fn(force);
  };
}
