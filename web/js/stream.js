// The live stream: an HLS <video> (native where the browser plays HLS, with the vendored hls.js
// where it needs MediaSource), an <iframe> for an embed URL, or nothing. hls.js is loaded only
// when a page actually needs it.

import { h } from './dom.js';
import { t } from './i18n.js';

const HLS_SCRIPT = '/static/vendor/hls-1.7.4.min.js';
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

function hlsVideo(url) {
  const note = h('p', { class: 'hint', hidden: true }, t('stream.unavailable'));
  const video = h('video', {
    controls: true, playsinline: true, muted: true, autoplay: true, preload: 'metadata',
    'aria-label': t('stream.title'), class: 'stream-video',
  });
  video.addEventListener('error', () => { note.hidden = false; });
  const src = streamUrl(url);
  if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src;
  } else if (window.MediaSource || window.ManagedMediaSource) {
    loadHls().then((Hls) => {
      if (!Hls.isSupported()) {
        note.hidden = false;
        return;
      }
      const player = new Hls({ lowLatencyMode: true, backBufferLength: 30 });
      player.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) note.hidden = false;
      });
      player.loadSource(src);
      player.attachMedia(video);
    }).catch(() => { note.hidden = false; });
  } else {
    note.hidden = false;
  }
  return h('div', { class: 'stream' }, video, note);
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

/** The player for the congress's stream setting, or null when there is none. */
export function streamPlayer(stream) {
  if (!stream || !stream.url || stream.kind === 'none') return null;
  if (stream.kind === 'hls') return hlsVideo(stream.url);
  if (stream.kind === 'embed') return embed(stream.url);
  return null;
}
