// A page's copy of the congress: the snapshot from `hello`, with every event applied in order
// (docs/protocol.md, "Events" and "Snapshot"), plus the coalesced presence and progress.
//
// Event types are an open set — features add their own (proposal.*, room.*, document.*). Those
// are handled by the module that shows them: `onEvents('proposal', (state, event) => ...)`.
// An event no module on this page handles is not shown here, and is skipped.

import { LiveClient } from './live.js';

const handlers = new Map(); // family ('proposal') -> [(state, event) => void]

/** Let a feature module keep its part of the state: `onEvents('room', apply)`. */
export function onEvents(family, apply) {
  if (!handlers.has(family)) handlers.set(family, []);
  handlers.get(family).push(apply);
}

function byId(list, id) {
  return list.find((x) => x.id === id);
}

function upsertVote(state, vote) {
  const existing = byId(state.votes, vote.id);
  if (existing) Object.assign(existing, vote);
  else state.votes.push({ ...vote });
}

/** Apply one event to the state, as the server's snapshot would show it afterwards. */
export function applyEvent(state, event) {
  const p = event.payload;
  const congress = state.congress;
  switch (event.type) {
    case 'congress.created':
    case 'access_codes.issued':
      break;
    case 'groups.added':
      for (const g of p.groups) {
        if (!state.attendance.groups.some((x) => x.group_id === g.id)) {
          state.attendance.groups.push({ group_id: g.id, name: g.name, eligible: 0, present: 0 });
        }
      }
      break;
    case 'congress.rules_changed':
      congress.rules = p.rules;
      break;
    case 'check_in.window_set':
      congress.check_in = { opens_at: p.opens_at, closes_at: p.closes_at };
      break;
    case 'proposals.filing_window_set':
      congress.filing = { opens_at: p.opens_at, closes_at: p.closes_at };
      break;
    case 'stream.set':
      congress.stream = { kind: p.kind, url: p.url, delay_seconds: p.delay_seconds };
      break;
    case 'watch.set':
      congress.watch_mode = p.mode;
      break;
    case 'roster.imported':
      for (const g of state.attendance.groups) g.eligible = p.per_group?.[g.name]?.voting ?? 0;
      state.attendance.eligible = p.voting;
      break;
    case 'agenda.item_added':
      if (!byId(state.agenda, p.id)) state.agenda.push({ ...p });
      break;
    case 'agenda.reordered':
      state.agenda.sort((a, b) => p.order.indexOf(a.id) - p.order.indexOf(b.id));
      state.agenda.forEach((item, index) => { item.position = index + 1; });
      break;
    case 'agenda.current_changed': {
      const previous = byId(state.agenda, congress.current_agenda_item_id);
      if (previous && previous.id !== p.item_id) previous.status = 'done';
      congress.current_agenda_item_id = p.item_id;
      const item = byId(state.agenda, p.item_id);
      if (item) {
        item.status = 'current';
        congress.status = 'in_session';
      }
      break;
    }
    case 'attendance.changed':
      state.attendance = { groups: p.groups, eligible: p.eligible, present: p.present };
      break;
    case 'attendance.checked_in':
    case 'attendance.checked_out':
      if (state.me && state.me.delegate_id === p.delegate_id) {
        state.me.is_checked_in = event.type === 'attendance.checked_in';
      }
      break;
    case 'vote.created':
      upsertVote(state, p);
      break;
    case 'vote.opened': {
      // `quorum` is the words of the check at opening (the command's reply shows them), not the vote's
      const { quorum: _words, ...vote } = p;
      upsertVote(state, state.me ? { my_ballot_at: null, ...vote } : vote); // a delegate: not voted yet
      break;
    }
    case 'ballot.recorded': {
      // A delegate receives only their own; staff receive everyone's, which is no ballot of theirs.
      // my_ballot_at is when they first voted (the roll's time): a change keeps it.
      const vote = state.me ? byId(state.votes, p.vote_id) : null;
      if (vote && !(p.is_change && vote.my_ballot_at)) vote.my_ballot_at = p.at;
      break;
    }
    case 'group_count.entered': {
      const vote = byId(state.votes, p.vote_id);
      if (vote) vote.group_counts = { ...(vote.group_counts || {}), [p.group_id]: p };
      break;
    }
    case 'vote.closed': {
      const vote = byId(state.votes, p.vote_id);
      if (vote) Object.assign(vote, { status: 'closed', cast: p.cast, closed_at: p.at });
      break;
    }
    case 'vote.tallied': {
      const vote = byId(state.votes, p.vote_id);
      if (vote) vote.result = p.result;
      break;
    }
    case 'vote.certified': {
      const vote = byId(state.votes, p.vote_id);
      if (vote) vote.certified_by = p.certified_by;
      break;
    }
    case 'vote.published': {
      const vote = byId(state.votes, p.vote_id);
      if (vote) Object.assign(vote, { status: 'published', result: p.result, certified_by: p.certified_by, record: p.record });
      // The record's fingerprint (记录指纹) as of this publication: the head just before it.
      if (p.record) state.record = p.record;
      break;
    }
    case 'vote.cancelled': {
      const vote = byId(state.votes, p.vote_id);
      if (vote) Object.assign(vote, { status: 'cancelled', cancel_reason: p.reason });
      break;
    }
    default:
      for (const apply of handlers.get(event.type.split('.')[0]) || []) apply(state, event);
  }
}

/** The store a page renders from; `subscribe(fn)` is called after every change. */
export class Store {
  constructor() {
    this.state = null;
    this.role = null;
    this.identity = null;
    this.presence = null;
    this.progress = new Map(); // vote id -> progress entry
    this.streamHealth = null; // staff: the latest stream_health message
    this.streamStalled = false; // observers: the server says the stream stalled (stream_status)
    this.isConnected = false;
    this.listeners = new Set();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify(change) {
    for (const fn of this.listeners) fn(change);
  }

  hello(message) {
    this.role = message.role;
    this.identity = message.identity;
    if (!message.resumed) {
      this.state = { votes: [], agenda: [], ...message.snapshot };
      this.progress.clear();
    }
    this.notify({ kind: 'hello', resumed: message.resumed });
  }

  event(message) {
    if (!this.state) return;
    applyEvent(this.state, message);
    this.notify({ kind: 'event', event: message });
  }

  setConnected(isConnected) {
    this.isConnected = isConnected;
    this.notify({ kind: 'status' });
  }

  setPresence(message) {
    this.presence = message;
    this.notify({ kind: 'presence' });
  }

  /** Observers: 应到 / 实到 coalesced (the attendance.changed events go to delegates and staff). */
  setAttendance(message) {
    if (!this.state) return;
    this.state.attendance = { groups: message.groups, eligible: message.eligible, present: message.present };
    this.notify({ kind: 'event', event: { type: 'attendance.changed', payload: message } });
  }

  setProgress(message) {
    this.progress = new Map(message.votes.map((v) => [v.vote_id, v]));
    this.notify({ kind: 'progress' });
  }

  setStreamHealth(message) {
    this.streamHealth = message;
    this.notify({ kind: 'stream_health' });
  }

  setStreamStatus(message) {
    this.streamStalled = Boolean(message.stalled);
    this.notify({ kind: 'stream_status' });
  }
}

/** A store fed by a live connection: the usual start of a page. */
export function connect({ congressId = null, watch = null, onRefused, onNotice, feed = null } = {}) {
  const store = new Store();
  // `feed(store)`: something between the socket and the store with the same methods (the watch
  // page's sync.js holds each message until the viewer's own picture reaches it)
  const into = feed ? feed(store) : store;
  const live = new LiveClient({
    congressId,
    watch,
    onHello: (m) => into.hello(m),
    onEvent: (m) => into.event(m),
    onPresence: (m) => into.setPresence(m),
    onProgress: (m) => into.setProgress(m),
    onAttendance: (m) => into.setAttendance(m),
    onStreamHealth: (m) => store.setStreamHealth(m),
    onStreamStatus: (m) => store.setStreamStatus(m),
    onStatus: (isConnected) => store.setConnected(isConnected),
    onRefused,
    onNotice: onNotice || ((m) => console.warn('live:', m.code, m.message)),
  });
  into.attach?.(live);
  live.start();
  return { store, live };
}

// ---- reading the state -------------------------------------------------------------------

export function currentItem(state) {
  return state ? byId(state.agenda, state.congress.current_agenda_item_id) || null : null;
}

function parseFraction(text) {
  const [num, den] = String(text || '2/3').split('/').map((x) => parseInt(x, 10));
  return den ? [num, den] : [num, 1];
}

/** Quorum from the congress's rules: at least (or more than) fraction × 应到, as the server counts it. */
export function quorum(state) {
  const rules = state.congress.rules || {};
  const fraction = rules.quorum || '2/3';
  const inclusive = rules.quorum_inclusive !== false;
  const [num, den] = parseFraction(fraction);
  const { eligible, present } = state.attendance;
  const product = num * eligible;
  const required = inclusive ? Math.ceil(product / den) : Math.floor(product / den) + 1;
  return { fraction, inclusive, required, eligible, present, met: present >= required };
}

export function groupName(state, groupId) {
  return state.attendance.groups.find((g) => g.group_id === groupId)?.name ?? '';
}

export function isHandCounted(vote, groupId) {
  return (vote.group_modes || {})[String(groupId)] === 'hand_count';
}

/** Why a delegate may not vote in this vote right now: null when they may. */
export function ballotBlocker(state, vote) {
  const me = state.me;
  if (!me) return 'not_delegate';
  if (!me.is_voting) return 'not_voting';
  if (isHandCounted(vote, me.group_id)) return 'hand_counted';
  if (vote.my_ballot_at && !vote.is_changeable) return 'already_voted';
  if (!me.is_checked_in) return 'not_checked_in';
  return null;
}

// 提案征集: 'not_open', 'open' or 'closed' now (congress.filing, set by set_filing_window)
export function filingWindow(state, now = new Date()) {
  const { opens_at: opens, closes_at: closes } = state.congress.filing || {};
  if (opens && now < new Date(opens)) return 'not_open';
  if (closes && now >= new Date(closes)) return 'closed';
  return 'open';
}

export function checkInWindow(state, now = new Date()) {
  const { opens_at: opens, closes_at: closes } = state.congress.check_in || {};
  if (opens && now < new Date(opens)) return 'not_open';
  if (closes && now >= new Date(closes)) return 'closed';
  return 'open';
}
