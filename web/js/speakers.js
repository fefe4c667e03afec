// Requests to speak (docs/protocol.md): who has the floor (public, with a countdown when time is
// allowed), a delegate's 申请发言 and own waiting request, and the staff's 发言 queue.

import { clear, field, h, region } from './dom.js';
import { t } from './i18n.js';
import { currentItem, onEvents } from './state.js';

function speakers(state) {
  if (!state.speakers) state.speakers = { current: null, waiting: [] };
  if (!state.speakers.waiting) state.speakers.waiting = [];
  return state.speakers;
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
    h('strong', { class: 'floor-name' }, floor.name), ' ',
    h('span', { class: 'muted' }, floor.group),
    floor.topic ? h('span', { class: 'floor-topic' }, `「${floor.topic}」`) : null,
    floor.seconds_allowed ? countdown : null);
}

/** Delegate page: the current speaker and 申请发言 (mounted inside the room slot). */
export function mountSpeakRequest(root, { store, live }) {
  const state = { open: false, error: null, sending: false };
  const floor = h('div', { class: 'floor-slot' });
  const mine = h('div');
  const floorRegion = region(floor, () => speakers(store.state).current, () => floorCard(speakers(store.state).current));
  const mineRegion = region(mine, () => [speakers(store.state).waiting, store.state.congress.current_agenda_item_id, state],
    () => build());

  async function send(op, args, focusId) {
    state.sending = true;
    state.error = null;
    mineRegion();
    try {
      await live.command(op, args);
      state.open = false;
    } catch (error) {
      state.error = error.message;
    }
    state.sending = false;
    mineRegion(true);
    if (focusId) document.getElementById(focusId)?.focus();
  }

  function build() {
    const item = currentItem(store.state);
    const waiting = speakers(store.state).waiting.find((r) => r.delegate_id === store.state.me?.delegate_id && r.status === 'waiting');
    const out = [];
    if (waiting) {
      out.push(h('p', { class: 'notice ok' }, t('speak.waiting', { topic: waiting.topic || t('speak.no_topic') }), ' ',
        h('button', { type: 'button', class: 'small', id: 'speak-withdraw', disabled: state.sending,
          on: { click: () => send('withdraw_speech_request', { request_id: waiting.id }, 'speak-open') } }, t('speak.withdraw'))));
    } else if (!item) {
      out.push(h('p', { class: 'hint' }, t('speak.no_item')));
    } else if (state.open) {
      const topic = h('input', { type: 'text', id: 'speak-topic', maxlength: 200 });
      const form = h('form', { class: 'speak-form' }, field(t('speak.topic'), topic),
        h('div', { class: 'doc-actions' },
          h('button', { type: 'submit', class: 'primary', disabled: state.sending }, t('speak.send')),
          h('button', { type: 'button', on: { click: () => { state.open = false; mineRegion(true); } } }, t('common.cancel'))));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        send('request_to_speak', { topic: topic.value }, 'speak-withdraw');
      });
      out.push(form);
      queueMicrotask(() => topic.focus());
    } else {
      out.push(h('button', { type: 'button', id: 'speak-open', on: { click: () => { state.open = true; mineRegion(true); } } }, t('speak.request')));
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

  function row(r, index, all) {
    return h('li', { class: 'agenda-row speaker-row' },
      h('div', { class: 'agenda-main' },
        h('span', { class: 'agenda-pos' }, `${index + 1}.`),
        h('strong', {}, r.name), ' ', h('span', { class: 'muted' }, r.group),
        r.topic ? h('span', { class: 'floor-topic' }, `「${r.topic}」`) : null),
      h('div', { class: 'agenda-actions' },
        h('button', { type: 'button', class: 'small', id: `sp-up-${r.id}`, disabled: index === 0, 'aria-label': `↑ ${r.name}`,
          on: { click: () => move(index, -1) } }, '↑'),
        h('button', { type: 'button', class: 'small', id: `sp-down-${r.id}`, disabled: index === all.length - 1, 'aria-label': `↓ ${r.name}`,
          on: { click: () => move(index, 1) } }, '↓'),
        h('button', { type: 'button', class: 'small primary', on: {
          click: () => {
            const s = parseInt(seconds.value, 10);
            run('give_floor', s > 0 ? { request_id: r.id, seconds_allowed: s } : { request_id: r.id });
          },
        } }, t('speak.give')),
        h('button', { type: 'button', class: 'small', on: { click: () => run('withdraw_speech_request', { request_id: r.id }) } }, t('speak.remove'))));
  }

  const floorRegion = region(floor, () => speakers(store.state).current, () => {
    const current = speakers(store.state).current;
    return [floorCard(current), current ? h('button', { type: 'button', class: 'danger', id: 'speak-end',
      on: { click: () => run('end_speech', {}) } }, t('speak.end')) : null];
  });
  const listRegion = region(list, () => [waiting(), currentItem(store.state)?.title], () => {
    const all = waiting();
    const item = currentItem(store.state);
    return [h('p', { class: 'hint' }, item ? t('speak.for_item', { title: item.title }) : t('speak.no_item')),
      all.length ? h('ol', { class: 'agenda-rows', id: 'speaker-rows' }, all.map(row)) : h('p', { class: 'muted' }, t('speak.none_waiting'))];
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
