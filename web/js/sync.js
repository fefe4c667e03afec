// Each viewer in step with their own picture (docs/streaming.md "Each viewer in step").
//
// HLS viewers are each 6 to 30 s behind, each differently. The server already holds everything back
// by H (the stream's delay setting); this module holds the rest in the page: every event and every
// coalesced message (progress, attendance, presence) carries `at`, the moment it happened, and is
// applied only when the player's own picture (program-date-time: hls.js `playingDate`, Safari's
// `getStartDate()` + currentTime) reaches that moment. The first snapshot is asked for as of the
// picture's moment (the socket's `as_of`), so a viewer further behind than H starts from the state
// their picture shows, not a later one.
//
// Modes: 'syncing' (the picture has not played yet; the state parts say so), 'in_step', 'held'
// (no picture: not started, stalled over STALL_MS, autoplay impossible — the server's hold H alone,
// said in one line) and 'direct' (an embed or no stream: no timing, the server's hold is all).

export const STALL_MS = 15000; // a picture that has not moved this long no longer paces the page
const TICK_MS = 200;
const ASK_AGAIN_MS = 5000; // at most one new snapshot per this long (a picture that keeps jumping)
const LEEWAY_MS = 500; // a snapshot this little ahead of the picture is taken as in step

function momentOf(message) {
  const ms = message && message.at ? Date.parse(message.at) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Stands between the live socket and the store (state.js `connect({ feed })`). `pictureTime()`
 * returns the picture's Date or null; `kindOf(store)` the stream's kind ('hls', 'embed', 'none').
 */
export class InStep {
  constructor(store, { pictureTime, kindOf = (s) => s.state?.congress.stream?.kind ?? 'none', now = () => Date.now() }) {
    this.store = store;
    this.pictureTime = pictureTime;
    this.kindOf = kindOf;
    this.now = now;
    this.live = null;
    this.mode = 'syncing';
    this.queue = []; // [{at (ms or null), apply()}], in arrival order
    this.shown = null; // the moment (ms) the state on screen shows
    this.lastPicture = null;
    this.movedAt = 0;
    this.waitingSince = now();
    this.askedAt = -Infinity;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  attach(live) {
    this.live = live;
  }

  // -- the store's feed (state.js) ---------------------------------------------------------------
  hello(message) {
    if (!message.resumed) {
      this.queue = []; // the snapshot replaces whatever was waiting; its events follow it
      // Asked for a moment older than the server keeps: the oldest it has is as close as it gets.
      this.shown = message.as_of_too_old ? null : momentOf({ at: message.shows });
      this.store.hello(message);
    } else {
      this.store.hello(message);
    }
    this.tick();
  }

  event(message) {
    this.hold(message, () => this.store.event(message));
  }

  setPresence(message) {
    this.hold(message, () => this.store.setPresence(message));
  }

  setProgress(message) {
    this.hold(message, () => this.store.setProgress(message));
  }

  setAttendance(message) {
    this.hold(message, () => this.store.setAttendance(message));
  }

  hold(message, apply) {
    this.queue.push({ at: momentOf(message), apply });
    this.tick();
  }

  // -- pacing --------------------------------------------------------------------------------------
  setMode(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    if (mode === 'syncing') this.waitingSince = this.now();
    this.store.notify({ kind: 'sync', mode });
  }

  /** The picture's moment (ms) if it is playing, else null. */
  playing(now) {
    const date = this.pictureTime();
    const ms = date ? date.getTime() : NaN;
    if (!Number.isFinite(ms)) return null;
    if (ms !== this.lastPicture) {
      this.lastPicture = ms;
      this.movedAt = now;
    }
    return now - this.movedAt < STALL_MS ? ms : null;
  }

  tick() {
    if (!this.store.state) return; // before the first hello: nothing to pace yet
    const now = this.now();
    if (this.kindOf(this.store) !== 'hls') {
      this.setMode('direct');
      this.flush(Infinity);
      return;
    }
    const picture = this.playing(now);
    if (picture === null) {
      if (this.mode === 'in_step' || this.mode === 'direct' || now - this.waitingSince >= STALL_MS) {
        this.setMode('held'); // the server's hold alone, said in one line
      }
      if (this.mode === 'held') this.flush(Infinity);
      return;
    }
    if (this.shown !== null && picture < this.shown - LEEWAY_MS) {
      // The screen shows a later moment than the picture (a viewer further behind than the server's
      // hold, or back from the fallback): the state as of the picture, from the server's history.
      if (this.live && now - this.askedAt >= ASK_AGAIN_MS) {
        this.askedAt = now;
        this.setMode('syncing');
        this.live.restartAsOf(new Date(picture));
      }
      if (this.mode === 'syncing') return;
    }
    this.setMode('in_step');
    this.flush(picture);
  }

  /** Apply, in arrival order, what happened at or before `moment` (ms). */
  flush(moment) {
    let applied = 0;
    while (this.queue.length && (this.queue[0].at === null || this.queue[0].at <= moment)) {
      const { at, apply } = this.queue.shift();
      if (at !== null) this.shown = Math.max(this.shown ?? at, at);
      apply();
      applied += 1;
    }
    return applied;
  }

  stop() {
    clearInterval(this.timer);
  }
}
