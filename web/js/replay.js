// 回放: the watch page after the broadcast. When the stream's playlist has an end (a recording:
// stream.js tells it with a `stream-ended` event on the player's box), the page shows a "回放" label,
// the chapters (GET …/chapters.vtt as the video's <track kind="chapters">, aligned by `?start=` to the
// recording's first program-date-time; tap one to jump there), and the agenda, current item and
// published results as they were at the moment the picture shows: the last moment of
// GET …/timeline.json with `at` at or before the picture's time, followed as the video plays or is
// moved. The live panels (their end-of-session state) are hidden meanwhile (body.replaying).

import { formatTime, h, clear, data } from './dom.js';
import { lang, t, term } from './i18n.js';
import { voteResult } from './results.js';
import { isAwaitingTrustees } from './trustees.js';

// Cue times are whole milliseconds: a chapter's moment shows when the video is put at its start.
const CUE_ROUNDING_MS = 1;
// The page rebuilds its player on a language switch: the new one goes on where the old one was.
const positions = new Map(); // recording's address -> video time (s)
let replaying = null; // the player's box being replayed, if any

function query(watch, extra = {}) {
  const params = new URLSearchParams(extra);
  if (watch) params.set('watch', watch);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The first EXT-X-PROGRAM-DATE-TIME of an HLS playlist (a master playlist: of its first variant). */
export async function playlistStart(src, depth = 0) {
  const response = await fetch(src, { credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) return null;
  const text = await response.text();
  const date = text.match(/^#EXT-X-PROGRAM-DATE-TIME:(.+)$/m);
  if (date) {
    const at = new Date(date[1].trim().replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
    return Number.isNaN(at.getTime()) ? null : at;
  }
  const variant = text.split('\n').map((line) => line.trim()).find((line) => line && !line.startsWith('#'));
  return variant && /\.m3u8(\?|$)/.test(variant) && depth < 2 ? playlistStart(new URL(variant, src).href, depth + 1) : null;
}

/** The moment showing at `time` (ms): the last with `at` ≤ time, or null before the first. */
export function momentAt(moments, time) {
  let low = 0;
  let high = moments.length; // moments are in log order, so their times never go back
  while (low < high) {
    const mid = (low + high) >> 1;
    if (moments[mid].time <= time) low = mid + 1;
    else high = mid;
  }
  return low ? moments[low - 1] : null;
}

function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(whole / 3600);
  const mm = String(Math.floor((whole % 3600) / 60)).padStart(hours ? 2 : 1, '0');
  const ss = String(whole % 60).padStart(2, '0');
  return hours ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

function stateAt(timeline, moment) {
  const agenda = (moment?.agenda || []).map((a) => ({ ...timeline.items[a.id], status: a.status }));
  const votes = (moment?.votes || []).map((v) => ({ ...timeline.votes[v.id], status: v.status }));
  return { agenda, votes, congress: { current_agenda_item_id: moment?.current_item_id ?? null } };
}

// The current item as parts.js currentItemCard shows it, with ids of its own (the live card stays in the page, hidden).
function currentAt(state) {
  const item = state.agenda.find((i) => i.id === state.congress.current_agenda_item_id);
  return h('section', { class: 'card current-item', 'aria-labelledby': 'replay-current-h' },
    h('h2', { id: 'replay-current-h', class: 'card-label' }, t('agenda.current')),
    item
      ? [h('p', { class: 'item-kind' }, term('agenda_kind', item.kind)),
        h('p', { class: 'item-title data-text' }, item.title),
        item.description ? h('p', { class: 'item-description data-text' }, item.description) : null,
        item.names?.length ? h('ul', { class: 'names', 'aria-label': t('agenda.names') }, item.names.map((n) => h('li', {}, n))) : null]
      : h('p', { class: 'item-title muted' }, t('agenda.none')));
}

function agendaAt(state) {
  return h('section', { class: 'card replay-agenda', 'aria-labelledby': 'replay-agenda-h' },
    h('h2', { id: 'replay-agenda-h', class: 'card-label' }, t('agenda.title')),
    state.agenda.length
      ? h('ol', { class: 'agenda-list' }, state.agenda.map((item) => h('li', {
        class: [`status-${item.status}`], 'aria-current': item.status === 'current' ? 'step' : null,
      }, h('span', { class: 'agenda-kind' }, term('agenda_kind', item.kind)), ' ', data(item.title),
      item.status === 'current' ? h('span', { class: 'tag' }, t('agenda.is_current')) : null)))
      : h('p', { class: 'muted' }, t('agenda.none')));
}

// Votes open at the moment (no counts: the replay has the log, not the progress), and sealed votes
// closed but not yet decrypted, as the live page showed them.
function votesAt(state) {
  const open = state.votes.filter((v) => v.status === 'open');
  const waiting = state.votes.filter(isAwaitingTrustees);
  return [open.map((vote) => h('section', { class: 'card vote-progress', dataset: { voteId: vote.id } },
    h('p', { class: 'card-label' }, t('vote.open')), h('h2', { class: 'data-text' }, vote.title))),
  waiting.map((vote) => h('section', { class: 'card vote-waiting', dataset: { voteId: vote.id } },
    h('h2', { class: 'data-text' }, vote.title), h('p', { class: 'notice' }, t('vote.awaiting_trustees'))))];
}

function resultsAt(state) {
  const published = state.votes.filter((v) => v.status === 'published' && v.result).reverse();
  return h('section', { class: 'results replay-results' },
    h('h2', { class: 'section-title' }, t('result.published')),
    published.length
      ? published.map((v) => h('article', { class: 'card result-card', dataset: { voteId: v.id } },
        h('h3', { class: 'data-text' }, v.title), voteResult(v, v.result)))
      : h('p', { class: 'muted replay-no-results' }, t('result.none')));
}

async function startReplay(box, { video, src, firstProgramDate }, { congressId, watch }) {
  const base = `/api/congresses/${encodeURIComponent(congressId)}`;
  const note = h('p', { class: 'hint replay-note', role: 'status' }, t('replay.loading'));
  const panel = h('section', { class: 'replay', 'aria-labelledby': 'replay-h' },
    h('h2', { id: 'replay-h', class: 'replay-label' }, t('replay.label')), note);
  box.append(panel);
  let start;
  let timeline;
  try {
    start = firstProgramDate ? new Date(firstProgramDate) : await playlistStart(src);
    const response = await fetch(`${base}/timeline.json${query(watch)}`, { credentials: 'same-origin' });
    timeline = response.ok ? await response.json() : null;
  } catch {
    timeline = null;
  }
  if (!box.isConnected) return; // the player was replaced meanwhile
  if (!start || !timeline) {
    note.textContent = t(start ? 'replay.no_timeline' : 'replay.no_time');
    return;
  }
  replaying = box;
  document.body.classList.add('replaying');
  const moments = timeline.moments.map((m) => ({ ...m, time: Date.parse(m.at) }));
  const chapters = h('ol', { class: 'chapter-list', 'aria-label': t('replay.chapters') });
  const now = h('p', { class: 'replay-now' });
  const shown = h('div', { class: 'replay-state' });
  clear(note, t('replay.explain'));
  panel.append(h('h3', { class: 'card-label' }, t('replay.chapters')), chapters, now, shown);

  const track = h('track', {
    kind: 'chapters', default: true, srclang: lang() === 'en' ? 'en' : 'zh-CN', label: t('replay.chapters'),
    src: `${base}/chapters.vtt${query(watch, { start: start.toISOString(), ...(lang() === 'en' ? { lang: 'en' } : {}) })}`,
  });
  video.append(track);
  track.track.mode = 'hidden'; // loads the cues without drawing them over the picture
  let cues = [];
  track.addEventListener('load', () => {
    cues = [...(track.track.cues || [])];
    clear(chapters, cues.map((cue, index) => h('li', {},
      h('button', { type: 'button', class: 'chapter', dataset: { index } },
        h('span', { class: 'chapter-time' }, clock(cue.startTime)), ' ',
        h('span', { class: 'chapter-title data-text' }, cue.text.split('\n')[0])))));
    if (!cues.length) chapters.append(h('li', { class: 'muted' }, t('replay.no_chapters')));
    show(true);
  });
  track.addEventListener('error', () => clear(chapters, h('li', { class: 'muted' }, t('replay.no_chapters'))));
  chapters.addEventListener('click', (event) => {
    const button = event.target.closest('button.chapter');
    if (!button) return;
    video.currentTime = cues[Number(button.dataset.index)].startTime;
    show();
  });

  let last;
  function show(force = false) {
    if (!box.isConnected) {
      if (replaying === box) {
        replaying = null;
        document.body.classList.remove('replaying');
      }
      return;
    }
    positions.set(src, video.currentTime);
    const time = start.getTime() + video.currentTime * 1000;
    for (const [index, cue] of cues.entries()) {
      const button = chapters.querySelector(`button[data-index="${index}"]`);
      const inside = video.currentTime + CUE_ROUNDING_MS / 1000 >= cue.startTime && video.currentTime < cue.endTime;
      if (button) button.setAttribute('aria-current', inside ? 'true' : 'false');
    }
    now.textContent = t('replay.picture_time', { time: formatTime(new Date(time).toISOString()) });
    const moment = momentAt(moments, time + CUE_ROUNDING_MS);
    if (!force && moment === last) return;
    last = moment;
    const state = stateAt(timeline, moment);
    clear(shown, currentAt(state), votesAt(state), resultsAt(state), agendaAt(state));
  }
  const resume = positions.get(src);
  if (resume) goOnFrom(video, resume);
  for (const name of ['timeupdate', 'seeked', 'seeking', 'loadedmetadata']) video.addEventListener(name, () => show());
  show(true);
}

// Put a new player where the last one was: once it knows the video's length, and again when it can
// play if the player (hls.js starts a recording at 0) moved it back meanwhile.
function goOnFrom(video, time) {
  const seek = () => {
    if (Math.abs(video.currentTime - time) > 0.5) video.currentTime = time;
  };
  if (video.readyState >= 1) seek();
  else video.addEventListener('loadedmetadata', seek, { once: true });
  video.addEventListener('canplay', seek, { once: true });
}

/** Watch a player's box (stream.js) for the end of its playlist, and then play it as the replay. */
export function followReplay(box, where) {
  replaying = null; // a new player: live until its playlist says otherwise
  document.body.classList.remove('replaying');
  if (!box) return;
  box.addEventListener('stream-ended', (event) => {
    startReplay(box, event.detail, where);
  }, { once: true });
}
