// Requests to speak (docs/protocol.md): who has the floor (public, with a countdown when time is
// allowed), a delegate's 申请发言 and own waiting requests, and the staff's 发言 queue.
//
// A request is for the item it was made on and stays waiting when staff move the agenda on: the
// delegate sees it under its item, staff see it listed under its item below the current queue.
// When staff take a delegate's request off (speech.removed), the delegate's page says so.

import { counter } from './counter.js';
import { clear, data, field, h, region } from './dom.js';
import { t, tx } from './i18n.js';
import { currentItem, onEvents } from './state.js';

// As the server checks it (congress/actions/speakers.py): shown as people type, never cut.
export const MAX_TOPIC_CHARS = 300;

function speakers(state) {
  if (!state.speakers) state.speakers = { current: null, waiting: [] };
  if (!state.speakers.waiting) state.speakers.waiting = [];
  return state.speakers;
}

// An item's title inside the strings' 《…》: its own book-title marks become 〈〉, as nested titles
// are written, not 《表决《…》》.
function nested(title) {
  return title.replaceAll('《', '〈').replaceAll('》', '〉');
}

function sortWaiting(list) {
  list.sort((a, b) => (a.position - b.position) || (a.id - b.id));
}

onEvents('speech', (state, event) => {
  const sp = speakers(state);
  const p = event.payload;
  sp.waiting = sp.waiting.filter((r) => r.id !== p.id);
  if (event.type === 'speech.requested' && p.status === 'waiting') {
    sp.waiting.push({ ...p });
    sortWaiting(sp.waiting);
  }
});

onEvents('speakers', (state, event) => {
  if (event.type !== 'speakers.ordered') return;
  const sp = speakers(state);
  const order = event.payload.order;
  sp.waiting.forEach((r) => {
    const index = order.indexOf(r.id);
    if (index >= 0) r.position = index + 1;
  });
  sortWaiting(sp.waiting);
});

onEvents('speaker', (state, event) => {
  const sp = speakers(state);
  const p = event.payload;
  if (event.type === 'speaker.floor_given') {
    sp.current = { ...p };
    sp.waiting = sp.waiting.filter((r) => r.id !== p.request_id);
  } else if (event.type === 'speaker.ended' && sp.current?.request_id === p.request_id) {
    sp.current = null;
  }
});

/** Seconds left for the current speaker, or null when no time was set. */
export function secondsLeft(floor, now = Date.now()) {
  if (!floor?.seconds_allowed) return null;
  return Math.round(floor.seconds_allowed - (now - new Date(floor.started_at).getTime()) / 1000);
}

function clock(seconds) {
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  return `${sign}${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// One ticking clock for every countdown on the page.
const countdowns = new Set();
setInterval(() => {
  for (const el of countdowns) {
    if (!el.isConnected) {
      countdowns.delete(el);
      continue;
    }
    tick(el);
  }
}, 1000);

function tick(el) {
  const left = secondsLeft(el.floor);
  el.textContent = left === null ? '' : clock(left);
  el.classList.toggle('is-over', left !== null && left < 0);
}

/** Who has the floor: name, group, topic, and a countdown. */
export function floorCard(floor) {
  if (!floor) return h('p', { class: 'muted floor-none' }, t('speak.nobody'));
  const countdown = h('span', { class: 'countdown', role: 'timer', 'aria-label': t('speak.time_left') });
  countdown.floor = floor;
  tick(countdown);
  countdowns.add(countdown);
  return h('div', { class: 'floor', role: 'status' },
    h('span', { class: 'floor-label' }, t('speak.now')),
    h('strong', { class: 'floor-name data-text' }, floor.name), ' ',
    h('span', { class: 'muted data-text' }, floor.group),
    floor.topic ? h('span', { class: 'floor-topic data-text' }, `「${floor.topic}」`) : null,
    floor.seconds_allowed ? countdown : null);
}

/** Delegate page: the current speaker and 申请发言 (mounted inside the room slot). */
export function mountSpeakRequest(root, { store, live }) {
  // removed: staff took one of this delegate's requests off the list (speech.removed): the page says
  // so until they dismiss it. A notice of this page, not part of the congress's state.
  const state = { open: false, error: null, sending: false, removed: null };
  const floor = h('div', { class: 'floor-slot' });
  const mine = h('div');
  const floorRegion = region(floor, () => speakers(store.state).current, () => floorCard(speakers(store.state).current));
  const mineRegion = region(mine, () => [speakers(store.state).waiting,
    store.state.congress.current_agenda_item_id, store.state.agenda.map((i) => i.title), state], () => build());
  store.subscribe((change) => {
    const event = change.kind === 'event' ? change.event : null;
    if (event?.type === 'speech.removed' && event.payload.delegate_id === store.state.me?.delegate_id) {
      state.removed = { ...event.payload };
      mineRegion();
    }
  });

  // `focus` is the id of what takes the focus afterwards, or a function of the command's result.
  async function send(op, args, focus) {
    state.sending = true;
    state.error = null;
    mineRegion();
    let result = null;
    try {
      result = await live.command(op, args);
      state.open = false;
    } catch (error) {
      state.error = error.message;
    }
    state.sending = false;
    mineRegion(true);
    const focusId = typeof focus === 'function' ? (result && focus(result)) : focus;
    if (focusId) document.getElementById(focusId)?.focus();
  }

  function itemTitle(itemId, fallback = null) {
    return nested(store.state.agenda.find((i) => i.id === itemId)?.title ?? fallback ?? t('speak.unknown_item'));
  }

  function withdrawButton(request) {
    return h('button', { type: 'button', class: 'small', id: `speak-withdraw-${request.id}`, disabled: state.sending,
      on: { click: () => send('withdraw_speech_request', { request_id: request.id }, 'speak-open') } }, t('speak.withdraw'));
  }

  function build() {
    const item = currentItem(store.state);
    const sp = speakers(store.state);
    const mineWaiting = sp.waiting.filter((r) => r.delegate_id === store.state.me?.delegate_id && r.status === 'waiting');
    const here = item ? mineWaiting.find((r) => r.agenda_item_id === item.id) : null;
    const out = [];
    if (state.removed) {
      const { removed } = state;
      out.push(h('div', { class: 'notice warn speak-removed', role: 'alert' },
        h('p', {}, t('speak.removed', { title: itemTitle(removed.agenda_item_id, removed.agenda_item_title),
          topic: removed.topic || t('speak.no_topic') })),
        h('button', { type: 'button', class: 'small', on: { click: () => { state.removed = null; mineRegion(true); } } }, t('speak.removed_ok'))));
    }
    // Requests made on other items: still waiting there, until staff call them or someone withdraws them
    for (const request of mineWaiting.filter((r) => r !== here)) {
      out.push(h('p', { class: 'notice speak-elsewhere', role: 'status' },
        tx('speak.waiting_elsewhere', { title: data(itemTitle(request.agenda_item_id)), topic: request.topic ? data(request.topic) : t('speak.no_topic') }), ' ',
        withdrawButton(request)));
    }
    if (here) {
      out.push(h('p', { class: 'notice ok' }, tx('speak.waiting', { topic: here.topic ? data(here.topic) : t('speak.no_topic') }), ' ',
        withdrawButton(here)));
    } else if (!item) {
      out.push(h('p', { class: 'hint' }, t('speak.no_item')));
    } else if (state.open) {
      const topic = h('input', { type: 'text', id: 'speak-topic' });
      const count = counter(topic, MAX_TOPIC_CHARS);
      const topicField = field(t('speak.topic'), topic);
      topic.after(count.element);
      const refused = h('p', { class: 'form-status bad', role: 'status', 'aria-live': 'polite' });
      const form = h('form', { class: 'speak-form' }, topicField, refused,
        h('div', { class: 'doc-actions' },
          h('button', { type: 'submit', class: 'primary', disabled: state.sending }, t('speak.send')),
          h('button', { type: 'button', on: { click: () => { state.open = false; mineRegion(true); } } }, t('common.cancel'))));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (count.isOver()) { // said, not cut: the delegate shortens it
          refused.textContent = count.refusal();
          topic.focus();
          return;
        }
        send('request_to_speak', { topic: topic.value }, (made) => `speak-withdraw-${made.id}`);
      });
      out.push(form);
      queueMicrotask(() => topic.focus());
    } else {
      out.push(h('button', { type: 'button', id: 'speak-open', on: { click: () => { state.open = true; mineRegion(true); } } },
        mineWaiting.length ? t('speak.request_here') : t('speak.request')));
    }
    if (state.error) out.push(h('p', { class: 'notice bad', role: 'alert' }, state.error));
    return out;
  }

  clear(root, h('h3', {}, t('speak.title')), floor, mine);
  return function update(force = false) {
    if (!store.state) return;
    floorRegion(force);
    mineRegion(force);
  };
}

/** Staff page: the 发言 view — the waiting list in order, give the floor, end the speech. */
export function mountStaffSpeakers(root, { store, live }) {
  let built = false;
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const floor = h('div', { class: 'floor-slot big' });
  const list = h('div');
  const seconds = h('input', { type: 'number', id: 'speak-seconds', min: 0, max: 3600, step: 30, value: 300 });

  async function run(op, args, focusId) {
    status.className = 'form-status';
    status.textContent = t('common.sending');
    try {
      await live.command(op, args);
      status.className = 'form-status ok';
      status.textContent = t('common.saved');
      if (focusId) queueMicrotask(() => document.getElementById(focusId)?.focus());
    } catch (error) {
      status.className = 'form-status bad';
      status.textContent = t('common.error', { message: error.message });
    }
  }

  function waiting() {
    const itemId = store.state.congress.current_agenda_item_id;
    return speakers(store.state).waiting.filter((r) => r.status === 'waiting' && r.agenda_item_id === itemId);
  }

  function move(index, delta) {
    const ids = waiting().map((r) => r.id);
    const [id] = ids.splice(index, 1);
    ids.splice(index + delta, 0, id);
    run('order_speakers', { order: ids }, `${delta < 0 ? 'sp-up' : 'sp-down'}-${id}`);
  }

  function giveAndRemove(r) {
    return [
      h('button', { type: 'button', class: 'small primary', 'aria-label': `${t('speak.give')}：${r.name}`, on: {
        click: () => {
          const s = parseInt(seconds.value, 10);
          run('give_floor', s > 0 ? { request_id: r.id, seconds_allowed: s } : { request_id: r.id });
        },
      } }, t('speak.give')),
      h('button', { type: 'button', class: 'small', 'aria-label': `${t('speak.remove')}：${r.name}`,
        on: { click: () => run('withdraw_speech_request', { request_id: r.id }) } }, t('speak.remove'))];
  }

  function who(r) {
    return [h('strong', { class: 'data-text' }, r.name), ' ', h('span', { class: 'muted data-text' }, r.group),
      r.topic ? h('span', { class: 'floor-topic data-text' }, `「${r.topic}」`) : null];
  }

  function row(r, index, all) {
    return h('li', { class: 'agenda-row speaker-row' },
      h('div', { class: 'agenda-main' }, h('span', { class: 'agenda-pos' }, `${index + 1}.`), who(r)),
      h('div', { class: 'agenda-actions' },
        h('button', { type: 'button', class: 'small', id: `sp-up-${r.id}`, disabled: index === 0, 'aria-label': `↑ ${r.name}`,
          on: { click: () => move(index, -1) } }, '↑'),
        h('button', { type: 'button', class: 'small', id: `sp-down-${r.id}`, disabled: index === all.length - 1, 'aria-label': `↓ ${r.name}`,
          on: { click: () => move(index, 1) } }, '↓'),
        giveAndRemove(r)));
  }

  // Requests made on other items, still waiting: listed under their item, in the agenda's order.
  function elsewhere() {
    const itemId = store.state.congress.current_agenda_item_id;
    const others = speakers(store.state).waiting.filter((r) => r.status === 'waiting' && r.agenda_item_id !== itemId);
    if (!others.length) return null;
    const agenda = store.state.agenda;
    const rank = (id) => { const i = agenda.findIndex((a) => a.id === id); return i < 0 ? agenda.length : i; };
    const itemIds = [...new Set(others.map((r) => r.agenda_item_id))].sort((a, b) => rank(a) - rank(b));
    return h('div', { class: 'speakers-elsewhere', id: 'speakers-elsewhere' },
      h('h4', {}, t('speak.elsewhere')),
      h('p', { class: 'hint' }, t('speak.elsewhere_hint')),
      itemIds.map((id) => {
        const item = agenda.find((a) => a.id === id);
        const list = others.filter((r) => r.agenda_item_id === id);
        return h('section', { class: 'speakers-item', dataset: { itemId: id } },
          h('h5', {}, tx('speak.item_title', { title: item ? data(nested(item.title)) : t('speak.unknown_item') }),
            item?.status === 'done' ? h('span', { class: 'tag' }, t('speak.item_done')) : null),
          h('ul', { class: 'agenda-rows' }, list.map((r) => h('li', { class: 'agenda-row speaker-row' },
            h('div', { class: 'agenda-main' }, who(r)),
            h('div', { class: 'agenda-actions' }, giveAndRemove(r))))));
      }));
  }

  const floorRegion = region(floor, () => speakers(store.state).current, () => {
    const current = speakers(store.state).current;
    return [floorCard(current), current ? h('button', { type: 'button', class: 'danger', id: 'speak-end',
      on: { click: () => run('end_speech', {}) } }, t('speak.end')) : null];
  });
  const listRegion = region(list, () => [speakers(store.state).waiting, store.state.congress.current_agenda_item_id,
    store.state.agenda.map((a) => [a.id, a.title, a.status])], () => {
    const all = waiting();
    const item = currentItem(store.state);
    return [h('p', { class: 'hint' }, item ? tx('speak.for_item', { title: data(item.title) }) : t('speak.no_item')),
      all.length ? h('ol', { class: 'agenda-rows', id: 'speaker-rows' }, all.map(row)) : h('p', { class: 'muted' }, t('speak.none_waiting')),
      elsewhere()];
  });

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      clear(root, h('h2', {}, t('staff.nav.speakers')),
        h('section', { class: 'card', 'aria-labelledby': 'speak-now-h' }, h('h3', { id: 'speak-now-h' }, t('speak.now')), floor),
        h('section', { class: 'card', 'aria-labelledby': 'speak-list-h' }, h('h3', { id: 'speak-list-h' }, t('speak.queue')),
          field(t('speak.seconds'), seconds, t('speak.seconds_hint')), status, list));
      built = true;
    }
    floorRegion(force);
    listRegion(force);
  };
}
