// The live stream: an HLS <video> (native where the browser plays HLS, with the vendored hls.js
// where it needs MediaSource), an <iframe> for an embed URL, or nothing. hls.js is loaded only
// when a page actually needs it.
//
// Viewers open the page before the broadcast starts, and encoders restart: a stream that does not
// load is tried again by itself, 2 s after the first failure and twice as long after each next one
// up to 30 s, with the state on screen and a button to try at once. The picture starts muted (a
// browser plays only a muted video by itself) with a button to turn the sound on.

import { h } from './dom.js';
import { t } from './i18n.js';

const HLS_SCRIPT = '/static/vendor/hls-1.7.4.min.js';
const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 30000;
const STALL_MS = 5000; // a picture that should play and has not moved this long: the signal is lost
const RELOAD_MS = 20000; // stuck this long with no word from the server: load the stream afresh
let serverStalled = false; // the server says the stream stalled (observers' stream_status)

/** The server's word on the stream (`stream_status`, congress/streaming/health.py): stalled or not. */
export function setStreamStalled(stalled) {
  const recovered = serverStalled && !stalled;
  serverStalled = Boolean(stalled);
  // A restarted encoder starts new numbering and timestamps, which a stuck player does not follow
  // by itself (Chromium's own HLS player): the ones stuck load the stream afresh.
  if (recovered) for (const player of players) player.recover?.();
}

function bufferedAhead(video) {
  const now = video.currentTime;
  for (let i = 0; i < video.buffered.length; i += 1) {
    if (video.buffered.start(i) <= now + 0.1 && now <= video.buffered.end(i)) return video.buffered.end(i) - now;
  }
  return 0;
}
let hlsLoading = null;

function loadHls() {
  if (window.Hls) return Promise.resolve(window.Hls);
  if (!hlsLoading) {
    hlsLoading = new Promise((resolve, reject) => {
      const script = h('script', { src: HLS_SCRIPT, async: true });
      script.addEventListener('load', () => resolve(window.Hls));
      script.addEventListener('error', () => reject(new Error('hls.js did not load')));
      document.head.append(script);
    });
  }
  return hlsLoading;
}

function streamUrl(url) {
  return new URL(url, location.origin).href; // "/live/x.m3u8" is on this server
}

// Players on the page. A part of the page that is rebuilt (the stream setting changed, or the
// language) drops its player from the document; a dropped player is stopped, so it neither keeps
// downloading the old stream nor retries it.
const players = new Set();

function stopDropped() {
  for (const player of players) {
    if (!player.box.isConnected) {
      player.stop();
      players.delete(player);
    }
  }
}

function hlsVideo(url) {
  const src = streamUrl(url);
  const video = h('video', {
    controls: true, playsinline: true, muted: true, autoplay: true, preload: 'auto',
    'aria-label': t('stream.title'), class: 'stream-video',
  });
  // The attribute alone leaves a created element's `muted` property false, and then no browser
  // starts the picture by itself: the property is what autoplay looks at.
  video.muted = true;
  video.defaultMuted = true;
  const state = h('span', { class: 'stream-state' });
  const countdown = h('span', { class: 'stream-countdown', 'aria-hidden': 'true' });
  const status = h('p', { class: 'hint stream-status', role: 'status', hidden: true }, state, ' ', countdown);
  const retryNow = h('button', { type: 'button', class: 'small stream-retry', hidden: true }, t('stream.retry_now'));
  const unmute = h('button', { type: 'button', class: 'small stream-unmute', hidden: true }, t('stream.unmute'));
  const stallNote = h('p', { class: 'notice warn stream-stalled', role: 'status', hidden: true }, t('stream.stalled'));
  const box = h('div', { class: 'stream' }, video, h('div', { class: 'stream-bar' }, status, retryNow, unmute), stallNote);

  let hls = null; // the hls.js player, when this browser needs it
  let hasPlayed = false;
  let delay = RETRY_FIRST_MS;
  let retryAt = 0;
  let timer = null;
  let ticker = null;
  let stopped = false;
  let ended = false; // told once: the playlist has an end (a recording), see replay.js

  // The playlist has an end (#EXT-X-ENDLIST): the broadcast is over and this is its recording. The
  // watch page's replay (replay.js) hears it from the box, with the first segment's program-date-time
  // when hls.js read it (null natively: replay.js reads the playlist itself).
  function tellEnded(firstProgramDate) {
    if (ended || stopped) return;
    ended = true;
    box.dispatchEvent(new CustomEvent('stream-ended', { detail: { video, src, firstProgramDate } }));
  }

  function showUnmute() {
    unmute.hidden = !(hasPlayed && video.muted);
  }

  function play() {
    video.play().catch(() => {}); // refused (not muted, or no data yet): the controls are there
  }

  function unavailable() {
    clearTimers();
    retryNow.hidden = true;
    status.hidden = false;
    state.textContent = t('stream.unavailable');
    countdown.textContent = '';
  }

  function clearTimers() {
    clearTimeout(timer);
    clearInterval(ticker);
    timer = ticker = null;
  }

  function tick() {
    countdown.textContent = t('stream.retry_in', { n: Math.max(0, Math.ceil((retryAt - Date.now()) / 1000)) });
  }

  function failed() {
    if (stopped || timer) return;
    if (!box.isConnected) { // dropped from the page before anyone noticed
      stopDropped();
      return;
    }
    if (hls) {
      hls.destroy();
      hls = null;
    }
    status.hidden = false;
    retryNow.hidden = false;
    state.textContent = t(hasPlayed ? 'stream.interrupted' : 'stream.waiting');
    retryAt = Date.now() + delay;
    tick();
    ticker = setInterval(tick, 1000);
    timer = setTimeout(() => {
      timer = null;
      start();
    }, delay);
    delay = Math.min(delay * 2, RETRY_MAX_MS);
  }

  function start() {
    clearTimers();
    if (stopped) return;
    // Native HLS only where it also tells the picture's moment (Safari's getStartDate): the watch page
    // keeps in step with it (sync.js). Chromium plays HLS itself without it, so it gets hls.js (playingDate).
    const knowsMoment = typeof video.getStartDate === 'function' || !(window.MediaSource || window.ManagedMediaSource);
    if (video.canPlayType('application/vnd.apple.mpegurl') && knowsMoment) {
      video.src = src; // again: a new load of the playlist (a failed load does not try again)
      play();
    } else if (window.MediaSource || window.ManagedMediaSource) {
      loadHls().then((Hls) => {
        if (stopped) return;
        if (!Hls.isSupported()) {
          unavailable();
          return;
        }
        hls = new Hls({ lowLatencyMode: true, backBufferLength: 30 });
        hls.on(Hls.Events.ERROR, (_event, data) => {
          if (data.fatal) failed();
        });
        hls.on(Hls.Events.MANIFEST_PARSED, play);
        hls.on(Hls.Events.LEVEL_LOADED, (_event, data) => {
          if (data.details && data.details.live === false) tellEnded(data.details.fragments[0]?.programDateTime ?? null);
        });
        hls.loadSource(src);
        hls.attachMedia(video);
      }).catch(unavailable);
    } else {
      unavailable();
    }
  }

  video.addEventListener('error', () => {
    if (!hls) failed(); // hls.js reports its own errors, fatal or not
  });
  video.addEventListener('playing', () => {
    hasPlayed = true;
    delay = RETRY_FIRST_MS;
    clearTimers();
    status.hidden = true;
    retryNow.hidden = true;
    showUnmute();
  });
  video.addEventListener('volumechange', showUnmute);
  video.addEventListener('durationchange', () => { // natively, a live stream's duration is Infinity
    if (!hls && Number.isFinite(video.duration) && video.duration > 0) tellEnded(null);
  });
  retryNow.addEventListener('click', () => {
    delay = RETRY_FIRST_MS;
    start();
  });
  unmute.addEventListener('click', () => {
    video.muted = false;
    if (!video.volume) video.volume = 1;
    play();
  });

  // An encoder that stops, or an edge that stops getting segments, raises no error: hls.js keeps
  // reloading the playlist and the video just waits. Say so when the picture has not moved for
  // STALL_MS, or at once when the server says the stream stalled and nothing is buffered ahead (a
  // viewer further behind still plays what it has); gone as soon as the picture moves again.
  let shownTime = -1;
  let movedAt = Date.now();
  let reloadedAt = 0;

  function reload() {
    reloadedAt = Date.now();
    if (hls) {
      hls.destroy();
      hls = null;
    }
    start();
  }
  const watchdog = setInterval(() => {
    if (stopped) {
      clearInterval(watchdog);
      return;
    }
    // Moving: forward, with data to go on (Chromium's own HLS player nudges a stuck position back
    // and forth at the end of its buffer, with only HAVE_CURRENT_DATA)
    if (video.currentTime > shownTime && video.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA) movedAt = Date.now();
    shownTime = video.currentTime;
    const still = Date.now() - movedAt;
    // A recording (the playlist has an end) that buffers has lost no signal
    const shouldPlay = hasPlayed && !ended && !video.paused && !video.ended && status.hidden;
    stallNote.hidden = !(shouldPlay && (still >= STALL_MS || (serverStalled && still >= 1000 && bufferedAhead(video) < 0.5)));
    // No word from the server (a stream it cannot check) and stuck long: try the stream afresh
    if (!stallNote.hidden && !serverStalled && still >= RELOAD_MS && Date.now() - reloadedAt >= RELOAD_MS) reload();
  }, 500);

  // The picture's own moment (EXT-X-PROGRAM-DATE-TIME): what the watch page keeps in step with (sync.js)
  function pictureDate() {
    if (!hasPlayed) return null;
    if (hls) return hls.playingDate || null;
    const start = video.getStartDate ? video.getStartDate().getTime() : NaN; // Safari's native HLS
    return Number.isFinite(start) ? new Date(start + video.currentTime * 1000) : null;
  }

  const player = {
    box,
    pictureDate,
    recover() { // not by the note: hls.js nudging a stuck picture hides it for a moment
      if (!stopped && hasPlayed && !ended && Date.now() - movedAt >= 1000) reload();
    },
    stop() {
      stopped = true;
      clearTimers();
      if (hls) hls.destroy();
      hls = null;
      video.pause();
      video.removeAttribute('src');
      video.load(); // lets go of the stream
    },
  };
  players.add(player);
  queueMicrotask(stopDropped); // after the rebuild that puts this one in place of the old one
  start();
  return box;
}

/** The moment (Date) the page's playing HLS picture shows, from the stream's program-date-time; null
 * when no picture plays or the stream carries no times. */
export function pictureTime() {
  for (const player of players) {
    const date = player.box.isConnected && player.pictureDate ? player.pictureDate() : null;
    if (date) return date;
  }
  return null;
}

function embed(url) {
  return h('div', { class: 'stream' },
    h('iframe', {
      src: streamUrl(url), title: t('stream.embed_title'), class: 'stream-frame',
      allow: 'autoplay; fullscreen; picture-in-picture', allowfullscreen: true,
      referrerpolicy: 'no-referrer', loading: 'lazy',
      sandbox: 'allow-scripts allow-same-origin allow-presentation',
    }),
    h('p', { class: 'hint' }, h('a', { href: streamUrl(url), target: '_blank', rel: 'noopener noreferrer' }, t('stream.open_link'))));
}

// The page's Content-Security-Policy, a response header, names the stream hosts the server knew
// when it sent the page (HLS for media and connect, an embedded player for frames). A stream staff
// move to another host while the page is open is outside it: rather than a player the browser
// blocks, the page says so and reloads (the watch page by itself), which brings a policy naming it.
let namedByPolicy = null; // `${kind} ${origin}` of the stream the page was first shown

function streamSource(stream) {
  return stream && stream.url && stream.kind !== 'none' ? `${stream.kind} ${new URL(stream.url, location.origin).origin}` : null;
}

function reloadNotice(reloadBySelf) {
  const button = h('button', { type: 'button', class: 'small stream-reload' }, t('stream.reload'));
  button.addEventListener('click', () => location.reload());
  if (reloadBySelf) setTimeout(() => location.reload(), 3000);
  return h('div', { class: 'stream' }, h('p', { class: 'notice', role: 'status' }, t('stream.moved'), ' ', button));
}

/** The player for the congress's stream setting, or null when there is none. `reloadBySelf`: a page
 * with nothing typed into it reloads by itself when the stream moved to a host its policy lacks. */
export function streamPlayer(stream, { reloadBySelf = false } = {}) {
  queueMicrotask(stopDropped); // a setting changed to none or embed drops the old player too
  const source = streamSource(stream);
  if (namedByPolicy === null) namedByPolicy = new Set([source].filter(Boolean));
  if (!stream || !stream.url || stream.kind === 'none') return null;
  if (!source.endsWith(` ${location.origin}`) && !namedByPolicy.has(source)) return reloadNotice(reloadBySelf);
  if (stream.kind === 'hls') return hlsVideo(stream.url);
  if (stream.kind === 'embed') return embed(stream.url);
  return null;
}
