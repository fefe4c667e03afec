// The trustees' key (监票人密钥) as the pages see it: the latest ceremony (the snapshot's `ceremony`,
// as ceremony_state gives it), kept up to date by the public events trustees.named / trustee.posted /
// trustees.key_ready / trustees.failed on the pages that call keepCeremony() (staff, delegate,
// trustee: observers' snapshots leave the ceremony out), and each closed secret vote's decryption
// (tally.sealed / tally.share_posted / tally.decrypted, kept on every page). Shown by the trustee page
// (trustee.js) and the staff's votes view (staff-trustees.js). Public data only: keys are public keys,
// messages are what every trustee posts for everyone to check.

import { h } from './dom.js';
import { t } from './i18n.js';
import { onEvents } from './state.js';

export const ROUNDS = [1, 2, 3];

/** The trustee messages of one round: {index: message}. */
export function roundOf(ceremony, round) {
  return ceremony?.messages?.[String(round)] || {};
}

export function hasPosted(ceremony, round, index) {
  return Object.prototype.hasOwnProperty.call(roundOf(ceremony, round), String(index));
}

export function postedCount(ceremony, round) {
  return Object.keys(roundOf(ceremony, round)).length;
}

/** A round-3 complaint, from the messages (trustee.posted puts it there before trustees.failed): {trustee, complaint}. */
export function complaintOf(ceremony) {
  if (!ceremony) return null;
  for (const [index, message] of Object.entries(roundOf(ceremony, 3))) {
    if (message && typeof message.complaint === 'string') return { trustee: Number(index), complaint: message.complaint };
  }
  return null;
}

/** The first 16 hex digits of a public key in groups of 4: what trustees read out to compare. */
export function keyFingerprint(hex) {
  return hex ? hex.slice(0, 16).toUpperCase().match(/.{1,4}/g).join(' ') : '';
}

function myIndexIn(state, trustees) {
  const mine = state.me?.employee_id;
  return mine ? (trustees.find((x) => x.employee_id === mine)?.index ?? null) : null;
}

// ---- keeping the ceremony and the decryptions in the page's state ------------------------------

function applyCeremonyEvent(state, event) {
  const p = event.payload;
  if (event.type === 'trustees.named') {
    state.ceremony = {
      ceremony_id: p.ceremony_id, congress_id: state.congress.id, threshold: p.threshold,
      trustee_count: p.trustees.length, status: 'collecting', public_key: null, trustees: p.trustees,
      my_index: myIndexIn(state, p.trustees), messages: { 1: {}, 2: {}, 3: {} },
    };
    return;
  }
  const ceremony = state.ceremony;
  if (!ceremony || ceremony.ceremony_id !== p.ceremony_id) return; // an older ceremony, or not loaded yet
  if (event.type === 'trustee.posted') {
    ceremony.messages[String(p.round)] = { ...roundOf(ceremony, p.round), [String(p.trustee)]: p.message };
  } else if (event.type === 'trustees.key_ready') {
    Object.assign(ceremony, { status: 'ready', public_key: p.public_key });
  } else if (event.type === 'trustees.failed') {
    ceremony.status = 'failed'; // the complaint is the round-3 message trustee.posted gave (complaintOf)
  }
}

function applyTallyEvent(state, event) {
  const p = event.payload;
  const vote = state.votes.find((v) => v.id === p.vote_id);
  if (!vote) return;
  if (event.type === 'tally.sealed') {
    vote.awaiting_trustees = true;
    vote.sealed_ballots = p.ballots;
  } else if (event.type === 'tally.share_posted') {
    const posted = new Set(vote.shares_posted || []);
    posted.add(p.trustee);
    vote.shares_posted = [...posted].sort((a, b) => a - b);
  } else if (event.type === 'tally.decrypted') {
    vote.awaiting_trustees = false;
    vote.decrypted_by = p.trustees;
  }
}

// Events that arrive while ceremony_state is on its way are applied again to its answer (each
// application is idempotent), so none is lost between the read and the reply.
let loading = null;
let keeping = false;

/** This page keeps the ceremony (staff, delegate, trustee pages): apply the trustees' events to it. */
export function keepCeremony() {
  if (keeping) return;
  keeping = true;
  for (const family of ['trustees', 'trustee']) {
    onEvents(family, (state, event) => {
      applyCeremonyEvent(state, event);
      loading?.push(event);
    });
  }
}
onEvents('tally', applyTallyEvent);

/** Read the latest ceremony again into store.state.ceremony (null: staff have named no trustees yet),
 * e.g. after a refusal that says the page's copy is behind; a hello brings it with the snapshot. */
export async function loadCeremony(store, live) {
  const held = [];
  loading = held;
  try {
    const { ceremony } = await live.command('ceremony_state');
    if (!store.state) return null;
    store.state.ceremony = ceremony;
    for (const event of held) applyCeremonyEvent(store.state, event);
    store.notify({ kind: 'ceremony' });
    return ceremony;
  } finally {
    if (loading === held) loading = null;
  }
}

/** How far a closed secret vote's decryption is (sealed_ballots' `decryption`), into the vote. */
export async function loadDecryption(store, live, voteId) {
  const reply = await live.command('sealed_ballots', { vote_id: voteId });
  const vote = store.state?.votes.find((v) => v.id === voteId);
  if (!vote) return reply;
  const d = reply.decryption || {};
  vote.shares_posted = [...new Set([...(vote.shares_posted || []), ...(d.trustees || [])])].sort((a, b) => a - b);
  vote.shares_needed = d.threshold ?? vote.shares_needed ?? null;
  vote.sealed_ballots = reply.count;
  if (d.decrypted) vote.awaiting_trustees = false;
  store.notify({ kind: 'decryption', voteId });
  return reply;
}

/** A closed secret vote whose sums the trustees have not decrypted yet. */
export function isAwaitingTrustees(vote) {
  return vote.is_secret && vote.status === 'closed' && !vote.result && vote.awaiting_trustees !== false;
}

// ---- showing the ceremony --------------------------------------------------------------------

export function statusTag(ceremony) {
  const cls = { ready: 'tag-ok', failed: 'tag-bad', collecting: 'tag-warn' }[ceremony.status] || '';
  return h('span', { class: ['tag', cls], id: 'ceremony-status' }, t(`trustees.status.${ceremony.status}`));
}

/** Who posted which round: one row per trustee, ✓ or — for rounds 1–3. */
export function ceremonyTable(ceremony, { highlight = null } = {}) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'compact ceremony-table', id: 'ceremony-table' },
    h('caption', {}, t('trustees.table_caption', { n: ceremony.trustee_count, t: ceremony.threshold })),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'num' }, '#'),
      h('th', { scope: 'col' }, t('trustees.col_name')),
      ROUNDS.map((r) => h('th', { scope: 'col', class: 'round-col' }, t('trustees.col_round', { n: r }))))),
    h('tbody', {}, ceremony.trustees.map((trustee) => h('tr', {
      class: trustee.index === highlight ? 'is-me' : null, dataset: { trustee: trustee.index },
    },
    h('td', { class: 'num' }, String(trustee.index)),
    h('th', { scope: 'row' }, h('span', { class: 'trustee-name data-text' }, trustee.name),
      h('span', { class: 'trustee-meta' }, `${trustee.employee_id} · `, h('span', { class: 'nowrap data-text' }, trustee.group)),
      trustee.index === highlight ? h('span', { class: 'tag' }, t('trustees.you')) : null),
    ROUNDS.map((r) => {
      const done = hasPosted(ceremony, r, trustee.index);
      const complaint = r === 3 && typeof roundOf(ceremony, 3)[String(trustee.index)]?.complaint === 'string';
      return h('td', { class: ['round-col', done ? (complaint ? 'round-bad' : 'round-done') : 'round-wait'] },
        h('span', { 'aria-hidden': 'true' }, done ? (complaint ? '✗' : '✓') : '—'),
        h('span', { class: 'visually-hidden' },
          t(done ? (complaint ? 'trustees.round_complained' : 'trustees.round_done') : 'trustees.round_waiting')));
    }))))));
}

/** Where the ceremony is, in words (the rounds, the key, a complaint). */
export function ceremonySummary(ceremony) {
  const n = ceremony.trustee_count;
  if (ceremony.status === 'ready') {
    return h('div', { class: 'key-ready' },
      h('p', { class: 'notice ok', id: 'ceremony-ready' }, t('trustees.ready', { t: ceremony.threshold, n })),
      h('p', {}, t('trustees.fingerprint'), ' ', h('code', { class: 'fingerprint-code', id: 'key-fingerprint' },
        keyFingerprint(ceremony.public_key))),
      h('p', { class: 'hint' }, t('trustees.fingerprint_hint')));
  }
  if (ceremony.status === 'failed') {
    const complaint = complaintOf(ceremony);
    return h('div', { class: 'notice bad', role: 'alert', id: 'ceremony-failed' },
      h('p', {}, t('trustees.failed')),
      complaint ? h('p', {}, t('trustees.complaint', { n: complaint.trustee }), ' ', h('q', {}, complaint.complaint)) : null);
  }
  const round = ROUNDS.find((r) => postedCount(ceremony, r) < n) ?? 3;
  return h('p', { class: 'ceremony-round', id: 'ceremony-round' },
    t('trustees.round_progress', { round, name: t(`trustees.round_name.${round}`), done: postedCount(ceremony, round), n }));
}
