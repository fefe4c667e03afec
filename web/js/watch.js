// 云听会: the observers' page, no sign-in. Stream, current item, 应到/实到 and quorum, vote
// progress (counts only), published results as charts by group, and how many are watching.
// The server already holds events back by the stream delay, so what shows here matches the picture.

import { param } from './api.js';
import { mountHeader, onLanguage } from './chrome.js';
import { mountDocuments } from './documents.js';
import { clear, data, h, region } from './dom.js';
import { t, term } from './i18n.js';
import { observe } from './observer.js';
import { attendanceCard, currentItemCard, progressBlock } from './parts.js';
import { mountBoard } from './proposals-board.js';
import { followReplay } from './replay.js';
import { voteResult } from './results.js';
import { floorCard } from './speakers.js';
import { pictureTime, setStreamStalled, streamPlayer } from './stream.js';
import { InStep } from './sync.js';
import { isAwaitingTrustees } from './trustees.js';

const $ = (id) => document.getElementById(id);

function agendaList(state) {
  return h('section', { class: 'card', 'aria-labelledby': 'agenda-h' },
    h('h2', { id: 'agenda-h', class: 'card-label' }, t('agenda.title')),
    h('ol', { class: 'agenda-list' }, state.agenda.map((item) => h('li', {
      class: [`status-${item.status}`], 'aria-current': item.status === 'current' ? 'step' : null,
    }, h('span', { class: 'agenda-kind' }, term('agenda_kind', item.kind)), ' ', data(item.title),
    item.status === 'current' ? h('span', { class: 'tag' }, t('agenda.is_current')) : null))));
}

// Before the broadcast (no stream set) the picture's place says so, and points to what the page
// shows meanwhile; the picture takes its place by itself once staff set the stream.
function noStream() {
  const link = (id, key) => h('a', { href: `#${id}` }, t(key));
  return h('div', { class: 'stream-none' },
    h('p', { class: 'stream-none-title' }, t('stream.not_started')),
    h('p', { class: 'stream-none-why' }, t('stream.not_set')),
    h('p', {}, t('stream.starts_here')),
    h('p', {}, t('stream.meanwhile'), ' ', link('agenda', 'agenda.title'), ' · ',
      link('attendance', 'attendance.title'), ' · ', link('results', 'result.published')));
}

// 记录指纹: the head of the tamper-evident event log (docs/records.md). One plain line says what
// it is for; the sequence number, the hash and how to check an exported record against them
// (`congress verify ARCHIVE --expect SEQ:HASH`, 8 hex digits are enough) are behind 详细说明.
function fingerprint(record) {
  if (!record || !record.hash) return null;
  const expectArg = `${record.seq}:${record.hash.slice(0, 8)}`;
  return h('section', { class: 'card fingerprint', 'aria-labelledby': 'fingerprint-h' },
    h('h2', { id: 'fingerprint-h', class: 'card-label' }, t('record.fingerprint')),
    h('p', { class: 'fingerprint-purpose' }, t('record.purpose')),
    h('details', { class: 'fingerprint-details' },
      h('summary', {}, t('record.details')),
      h('p', {}, t('record.at_seq', { n: record.seq })),
      h('code', { class: 'hash', title: record.hash }, record.hash),
      h('p', {}, t('record.how_it_works')),
      h('p', {}, t('record.how_to_check')),
      h('code', { class: 'hash verify-command' }, t('record.verify_command', { expect: expectArg }))));
}

// Until the page is in step with its picture, the state parts say so (sync.js): a result must not
// show before the viewer's own video reaches it.
function syncing() {
  return h('p', { class: 'muted syncing' }, t('sync.syncing'));
}

function syncLine(sync, stream) {
  if (sync.mode === 'in_step') return t('sync.in_step');
  if (sync.mode === 'held') return t('sync.held', { n: stream?.delay_seconds ?? 0 });
  return sync.mode === 'syncing' && stream?.kind === 'hls' ? t('sync.syncing') : '';
}

// The public documents (the reports before the congress): shown once there is one. Read with this
// page's watch token when watching needs one (a link's ?watch=).
function publicDocuments(store) {
  const watch = param('watch');
  const urlOf = (v) => {
    if (!watch) return v.url;
    const url = new URL(v.url, location.origin);
    url.searchParams.set('watch', watch);
    return `${url.pathname}${url.search}`;
  };
  const update = mountDocuments($('slot-documents'), { store, urlOf });
  return (force) => {
    if ((store.state.documents || []).length) update(force);
  };
}

async function main() {
  let sync = null; // each message waits for this viewer's own picture (sync.js)
  const inReplay = () => document.body.classList.contains('replaying'); // the recording is not the live edge
  const connection = await observe($('refused'), {
    feed: (s) => (sync = new InStep(s, { pictureTime: () => (inReplay() ? null : pictureTime()) })),
  });
  if (!connection) {
    $('loading').hidden = true;
    return;
  }
  const { store, live } = connection;
  let shownName = null;
  const renderHeader = mountHeader($('top'), {
    title: () => (store.state?.congress.name ? data(store.state.congress.name) : t('watch.title')),
    subtitle: () => (store.state?.congress.term?.label ? [data(store.state.congress.term.label), ' · ', t('watch.title')]
      : t('watch.title')), // 第N届第M次
  });
  const watching = h('p', { class: 'watching', id: 'watching', 'aria-live': 'off' });
  $('stream').before(watching);
  const inStepLine = h('p', { class: 'hint sync-line', id: 'sync-line', role: 'status' });
  $('stream').after(inStepLine);
  const stateRegion = (container, deps, build) => region(container, () => [sync.mode === 'syncing', deps()],
    () => (sync.mode === 'syncing' ? syncing() : build()));

  const parts = [
    region($('stream'), () => store.state.congress.stream, () => {
      const stream = store.state.congress.stream;
      const player = streamPlayer(stream, { reloadBySelf: true });
      // A playlist with an end is the recording: the page becomes the replay (replay.js).
      followReplay(player, { congressId: store.state.congress.id, watch: new URLSearchParams(location.search).get('watch') });
      $('stream').hidden = false;
      if (!player) return noStream();
      // HLS: each page in step with its own picture (sync.js, the line below the player). An embed
      // has no timing: the server holds agenda, attendance and results back by the delay staff set.
      return [player, stream.kind === 'embed' && stream.delay_seconds ? h('p', { class: 'hint' }, t('stream.delay', { n: stream.delay_seconds })) : null];
    }),
    stateRegion($('current'), () => [store.state.agenda, store.state.congress.current_agenda_item_id],
      () => currentItemCard(store.state)),
    // Who has the floor, as in the hall (speaker.floor_given / speaker.ended; nothing when nobody does)
    // (held for the picture like the rest; while syncing the other parts already say so)
    region($('floor'), () => [sync.mode === 'syncing', store.state.speakers?.current ?? null], () => {
      const current = store.state.speakers?.current;
      return current && sync.mode !== 'syncing' ? h('section', { class: 'card floor-card' }, floorCard(current)) : null;
    }),
    stateRegion($('progress'), () => [[...store.progress.values()], store.state.votes.map((v) => [v.id, v.title, v.status, isAwaitingTrustees(v)])], () => {
      const open = store.state.votes.filter((v) => v.status === 'open');
      // A closed secret vote has no result for anyone until the trustees decrypt its totals.
      const waiting = store.state.votes.filter(isAwaitingTrustees);
      return [open.map((vote) => h('section', { class: 'card vote-progress' },
        h('p', { class: 'card-label live-dot' }, t('vote.open')),
        h('h2', { class: 'data-text' }, vote.title),
        progressBlock(store.progress.get(vote.id)))),
      waiting.map((vote) => h('section', { class: 'card vote-waiting', dataset: { voteId: vote.id } },
        h('h2', { class: 'data-text' }, vote.title),
        h('p', { class: 'notice' }, t('vote.awaiting_trustees'))))];
    }),
    stateRegion($('results'), () => store.state.votes.filter((v) => v.status === 'published').map((v) => [v.id, v.result, v.certified_by]), () => {
      const published = store.state.votes.filter((v) => v.status === 'published' && v.result).reverse();
      return [h('h2', { class: 'section-title' }, t('result.published')),
        published.length
          ? published.map((v) => h('article', { class: 'card result-card', dataset: { voteId: v.id } },
            h('h3', { class: 'data-text' }, v.title), voteResult(v, v.result)))
          : h('p', { class: 'muted', id: 'no-results' }, t('result.none'))];
    }),
    stateRegion($('attendance'), () => [store.state.attendance, store.state.congress.rules],
      () => attendanceCard(store.state, { byGroup: true })),
    stateRegion($('agenda'), () => store.state.agenda, () => agendaList(store.state)),
    region($('fingerprint'), () => store.state.record, () => fingerprint(store.state.record)),
    region(inStepLine, () => [sync.mode, store.state.congress.stream], () => syncLine(sync, store.state.congress.stream)),
    region(watching, () => store.presence?.observers ?? null,
      () => (store.presence ? t('watch.watching', { n: store.presence.observers }) : '')),
    mountBoard($('slot-proposals'), store, live),
    publicDocuments(store),
  ];

  function update(force = false) {
    if (!store.state) return;
    if (store.state.congress.name !== shownName || force) {
      shownName = store.state.congress.name;
      renderHeader();
    }
    $('app').setAttribute('aria-busy', 'false');
    $('loading').hidden = true;
    for (const part of parts) part(force);
  }
  store.subscribe(() => update());
  store.subscribe((change) => { // the server says the stream stalled: stream.js weighs it against the picture
    if (change.kind === 'stream_status') setStreamStalled(store.streamStalled);
  });
  onLanguage(() => update(true));
}

clear($('loading'), t('common.loading'));
main();
