// The one live client of the pages (docs/protocol.md): connects to /ws, keeps the seq of the
// snapshot + events it holds, resumes with `since` after a drop, and sends commands that resolve
// on their ack. A command not yet answered when the connection drops is sent again after the
// reconnect with the SAME id: the server answers a resend with the first result and applies
// nothing twice, so a ballot is never counted twice and never lost.

import { go } from './api.js';
import { h } from './dom.js';
import { errorMessage, t } from './i18n.js';

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const HEARTBEAT_MS = 25000; // a ping when quiet, to notice a connection that died silently
const HEARTBEAT_TIMEOUT_MS = 10000;
// A command waiting this long for its ack makes the client ask at once whether the connection is
// alive (a ping that must be answered within PROBE_TIMEOUT_MS): a network that died silently shows
// within seconds of pressing 确认投票, not at the next heartbeat (about 27 s in the new-user test).
const ACK_PATIENCE_MS = 3000;
const PROBE_TIMEOUT_MS = 4000;
const MAX_FRAME_BYTES = 64 * 1024;
const REFUSED = new Set([4401, 4403, 4404, 4429]); // 4429: too many wrong watch tokens (retrying adds more)
const CLOSE_RESYNC = 4001;
// The sign-in no longer holds (signed out, code re-issued, account deactivated, expired): sign in again.
const CLOSE_SESSION_ENDED = 4010;
// Still signed in, but the roster changed what this person is (group, leader, type): reload the page,
// which connects with the new identity. Never twice within ACCESS_RELOAD_GUARD_MS by itself: no loop.
const CLOSE_ACCESS_CHANGED = 4011;
const ENDED_REDIRECT_MS = 5000;
const ACCESS_RELOAD_MS = 2500;
const ACCESS_RELOAD_GUARD_MS = 60000;
const ACCESS_RELOAD_KEY = 'congress.accessChangedReloadAt';
const CLOSE_RESTART = 1012;
const CLOSE_TOO_BIG = 1009;

/**
 * A command refused: `code` is stable, `message` the words to show in the page's language.
 * fromServer(reply): the server's refusal, its words from the catalogue (i18n.js errorMessage:
 * error.<code>, or the server's Chinese words), `params` what it names (a field, a limit) and
 * `serverMessage` the server's own words.
 */
export class CommandError extends Error {
  constructor(code, message, op, params = {}) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
    this.op = op;
    this.params = params;
  }

  static fromServer(reply) {
    const error = new CommandError(reply.code, errorMessage(reply.code, reply.params, reply.message), reply.op, reply.params || {});
    error.serverMessage = reply.message;
    return error;
  }
}

function randomPrefix() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Date.now().toString(36) + Array.from(bytes, (b) => (b % 36).toString(36)).join('');
}

/** Delay before reconnect attempt n: 1 s, 2 s, 4 s … 30 s, each with up to half of it as jitter. */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return base / 2 + random() * (base / 2);
}

export class LiveClient {
  /**
   * handlers: onHello(hello), onEvent(event), onPresence(msg), onProgress(msg), onStatus(isConnected),
   * onRefused(code, reason), onNotice(errorMessage), onEnded(kind) — each optional. onEnded:
   * 'session_ended' or 'access_changed' (close 4010 / 4011); the client shows why and moves on itself.
   */
  constructor({ congressId = null, watch = null, ...handlers } = {}) {
    this.congressId = congressId;
    this.watch = watch;
    this.handlers = handlers;
    this.seq = null; // the greatest seq held; null until the first snapshot
    this.pending = new Map(); // id -> {id, op, frame, resolve, reject}
    this.prefix = randomPrefix();
    this.counter = 0;
    this.attempt = 0;
    this.socket = null;
    this.isConnected = false;
    this.hasConnected = false;
    this.isStopped = false;
    this.refusal = null;
    this.ended = null; // {kind: 'session_ended' | 'access_changed', automatic}: the server ended our access
    this.endedBanner = null;
    this.endTimer = null;
    this.retryTimer = null;
    this.heartbeatTimer = null;
    this.heartbeatDeadline = null;
    this.ackWatch = null;
    this.badge = h('div', { class: 'live-badge', role: 'status', 'aria-live': 'polite', hidden: true });
  }

  start() {
    document.body.append(this.badge);
    this.showBadge(t('live.connecting'));
    window.addEventListener('online', () => this.reconnectNow());
    // The browser knows the network is gone: say so now, and resume when it is back.
    window.addEventListener('offline', () => this.drop('offline'));
    window.addEventListener('langchange', () => {
      if (!this.badge.hidden) this.showBadge(t(this.hasConnected ? 'live.reconnecting' : 'live.connecting'));
      if (this.ended) this.showEnded(this.ended);
    });
    this.connect();
    return this;
  }

  url() {
    const params = new URLSearchParams();
    if (this.congressId !== null && this.congressId !== undefined) params.set('congress', String(this.congressId));
    if (this.seq !== null) params.set('since', String(this.seq));
    else if (this.asOf) params.set('as_of', this.asOf); // an observer's snapshot as of its picture (sync.js)
    if (this.watch) params.set('watch', this.watch);
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws?${params}`;
  }

  /** Observers: start again from the snapshot as of `date` (their picture's moment; docs/protocol.md `as_of`). */
  restartAsOf(date) {
    this.asOf = date.toISOString();
    this.seq = null;
    const old = this.socket;
    this.socket = null; // its close is not a drop: nothing to resume
    if (old) old.close(1000, 'as_of');
    this.connect();
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.isStopped) return;
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener('message', (e) => {
      if (socket === this.socket) this.receive(JSON.parse(e.data));
    });
    socket.addEventListener('close', (e) => {
      if (socket === this.socket) this.closed(e.code, e.reason);
    });
  }

  /** Every server message goes through this one switch. */
  receive(message) {
    switch (message.msg) {
      case 'hello':
        this.isConnected = true;
        this.hasConnected = true;
        this.attempt = 0;
        this.congressId = message.congress_id;
        if (!message.resumed) this.seq = message.seq;
        this.asOf = null; // asked once: a later reconnect resumes by seq
        this.hideBadge();
        // What waited for the connection goes first (same ids: answered once). Before the handlers:
        // a command they send is sent at once, and was sent twice when this loop came after them.
        for (const command of this.pending.values()) this.transmit(command);
        this.handlers.onHello?.(message);
        this.handlers.onStatus?.(true);
        this.beat();
        break;
      case 'event':
        this.event(message);
        break;
      case 'events': // observers: consecutive events written together (a burst), in order
        for (const event of message.events) this.event(event);
        break;
      case 'ack': {
        const command = this.pending.get(message.id);
        if (command) {
          this.pending.delete(message.id);
          this.retried(command);
          command.resolve(message.result);
        }
        break;
      }
      case 'error': {
        const command = message.id ? this.pending.get(message.id) : null;
        if (command && message.code === 'unavailable') {
          // The database is away for a moment and nothing was written: the same command, with the
          // SAME id, after retry_after (a ballot is applied once however often it is sent).
          this.retryLater(command, message.retry_after);
        } else if (command) {
          this.retried(command);
          this.pending.delete(message.id);
          command.reject(CommandError.fromServer(message));
        } else if (message.code === 'refused') {
          this.refusal = message.message;
        } else {
          this.handlers.onNotice?.(message);
        }
        break;
      }
      case 'presence':
        this.handlers.onPresence?.(message);
        break;
      case 'progress':
        this.handlers.onProgress?.(message);
        break;
      case 'attendance':
        this.handlers.onAttendance?.(message);
        break;
      case 'stream_health': // staff: the stream's figures (congress/streaming/health.py)
        this.handlers.onStreamHealth?.(message);
        break;
      case 'stream_status': // observers: the stream stalled or moves again
        this.handlers.onStreamStatus?.(message);
        break;
      case 'pong':
        clearTimeout(this.heartbeatDeadline);
        break;
      default:
        throw new Error(`live: unknown message type ${JSON.stringify(message.msg)}`);
    }
  }

  event(message) {
    if (this.seq !== null && message.seq <= this.seq) return; // held already
    this.seq = message.seq;
    this.handlers.onEvent?.(message);
  }

  closed(code, reason) {
    this.socket = null;
    this.isConnected = false;
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.heartbeatDeadline);
    clearTimeout(this.ackWatch);
    this.ackWatch = null;
    if (code === CLOSE_SESSION_ENDED || code === CLOSE_ACCESS_CHANGED) {
      this.endAccess(code === CLOSE_SESSION_ENDED ? 'session_ended' : 'access_changed');
      return;
    }
    if (REFUSED.has(code)) {
      this.isStopped = true;
      this.hideBadge();
      for (const command of this.pending.values()) command.reject(new CommandError('refused', t('live.stopped'), command.op));
      this.pending.clear();
      this.handlers.onRefused?.(code, this.refusal || reason);
      return;
    }
    if (code === CLOSE_TOO_BIG) {
      // The server will not take a frame this large; do not send the largest one again.
      const largest = [...this.pending.values()].sort((a, b) => b.frame.length - a.frame.length)[0];
      if (largest) {
        this.pending.delete(largest.id);
        largest.reject(new CommandError('too_large', t('live.too_large'), largest.op));
      }
    }
    this.showBadge(t(this.hasConnected ? 'live.reconnecting' : 'live.connecting'));
    this.handlers.onStatus?.(false);
    let delay;
    if (code === CLOSE_RESYNC) delay = Math.random() * 500; // we fell behind: resume at once
    // Restarting (a worker drained on SIGTERM, congress.live.drain): nginx sends us to another worker,
    // so at once; the quarter second of jitter spreads thousands of pages over a few event-loop turns.
    else if (code === CLOSE_RESTART) delay = Math.random() * 250;
    else delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** The server ended this connection's access: say why, then sign in again or reload as the new self. */
  endAccess(kind) {
    this.isStopped = true;
    this.hideBadge();
    for (const command of this.pending.values()) command.reject(new CommandError(kind, t(`live.${kind}`), command.op));
    this.pending.clear();
    this.handlers.onStatus?.(false);
    let reloadAt = 0;
    try {
      reloadAt = Number(sessionStorage.getItem(ACCESS_RELOAD_KEY) || 0);
    } catch {
      // storage refused (private mode): the guard below then never reloads by itself
      reloadAt = Date.now();
    }
    const automatic = kind === 'session_ended' || Date.now() - reloadAt > ACCESS_RELOAD_GUARD_MS;
    this.ended = { kind, automatic };
    this.showEnded(this.ended);
    this.handlers.onEnded?.(kind);
    if (!automatic) return;
    if (kind === 'session_ended') {
      this.endTimer = setTimeout(() => this.signInAgain(), ENDED_REDIRECT_MS);
    } else {
      this.endTimer = setTimeout(() => this.reloadAsNewSelf(), ACCESS_RELOAD_MS);
    }
  }

  signInAgain() {
    const params = new URLSearchParams({ ended: 'session' });
    if (this.congressId !== null && this.congressId !== undefined) params.set('congress', String(this.congressId));
    go(`/sign-in?${params}`);
  }

  reloadAsNewSelf() {
    try {
      sessionStorage.setItem(ACCESS_RELOAD_KEY, String(Date.now()));
    } catch {
      // without storage the page still reloads once; a second change waits for the button
    }
    location.reload();
  }

  showEnded({ kind, automatic }) {
    const words = kind === 'session_ended' ? t('live.session_ended')
      : t(automatic ? 'live.access_changed' : 'live.access_changed_again');
    const button = kind === 'session_ended'
      ? h('button', { type: 'button', class: 'primary', id: 'live-sign-in-again', on: { click: () => this.signInAgain() } }, t('live.sign_in_again'))
      : h('button', { type: 'button', class: 'primary', id: 'live-reconnect', on: { click: () => this.reloadAsNewSelf() } }, t('live.reconnect_as_new'));
    const banner = h('div', { class: 'notice bad live-ended', role: 'alert', id: 'live-ended', dataset: { kind } },
      h('p', {}, words), button);
    if (this.endedBanner) this.endedBanner.replaceWith(banner);
    else document.body.prepend(banner);
    this.endedBanner = banner;
  }

  reconnectNow() {
    if (this.isConnected || this.isStopped) return;
    clearTimeout(this.retryTimer);
    if (this.socket) return; // a connection attempt is under way
    this.connect();
  }

  /** The connection is dead without having said so: drop it and resume (pending commands wait). */
  drop(reason) {
    if (!this.socket) return;
    const socket = this.socket;
    this.socket = null;
    socket.close();
    this.closed(1006, reason);
  }

  /** A command is waiting for its ack: if none comes soon, check the connection at once. */
  watchAck() {
    if (this.ackWatch) return;
    this.ackWatch = setTimeout(() => {
      this.ackWatch = null;
      if (!this.pending.size || !this.isConnected || !this.socket) return;
      this.counter += 1;
      this.socket.send(JSON.stringify({ op: 'ping', id: `${this.prefix}-p${this.counter}` }));
      clearTimeout(this.heartbeatDeadline);
      this.heartbeatDeadline = setTimeout(() => this.drop('ack timeout'), PROBE_TIMEOUT_MS);
    }, ACK_PATIENCE_MS);
  }

  beat() {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      if (!this.isConnected || !this.socket) return;
      this.counter += 1;
      this.socket.send(JSON.stringify({ op: 'ping', id: `${this.prefix}-p${this.counter}` }));
      clearTimeout(this.heartbeatDeadline);
      // No pong: the connection is dead without having said so. Drop it and resume.
      this.heartbeatDeadline = setTimeout(() => this.drop('heartbeat timeout'), HEARTBEAT_TIMEOUT_MS);
      this.beat();
    }, HEARTBEAT_MS);
  }

  /** Send a command; resolves with the ack's result, rejects with a CommandError. */
  command(op, args = {}) {
    this.counter += 1;
    const id = `${this.prefix}-${this.counter}`;
    const frame = JSON.stringify({ ...args, op, id });
    return new Promise((resolve, reject) => {
      if (new TextEncoder().encode(frame).length > MAX_FRAME_BYTES) {
        reject(new CommandError('too_large', t('live.too_large'), op));
        return;
      }
      if (this.isStopped) {
        reject(new CommandError('refused', t('live.stopped'), op));
        return;
      }
      const command = { id, op, frame, resolve, reject };
      this.pending.set(id, command);
      if (this.isConnected) this.transmit(command);
    });
  }

  /** Send a command again after `seconds`, while it still waits for its answer; say so meanwhile. */
  retryLater(command, seconds) {
    clearTimeout(command.retry);
    this.showBadge(t('live.retrying'));
    command.retry = setTimeout(() => {
      command.retry = null;
      if (this.pending.get(command.id) === command && this.isConnected) this.transmit(command);
    }, Math.max(0.5, Number(seconds) || 1) * 1000);
  }

  /** A command answered after a retry: the badge goes when nothing waits for a retry any more. */
  retried(command) {
    if (command.retry === undefined) return;
    clearTimeout(command.retry);
    command.retry = undefined;
    if (![...this.pending.values()].some((c) => c.retry !== undefined)) this.hideBadge();
  }

  transmit(command) {
    if (command.retry) { // sent now (a reconnect): not once more when the retry's time comes
      clearTimeout(command.retry);
      command.retry = null;
    }
    try {
      this.socket.send(command.frame);
      this.watchAck();
    } catch {
      // the socket closed under us; the command stays pending and goes again after the reconnect
    }
  }

  showBadge(text) {
    this.badge.textContent = text;
    this.badge.hidden = false;
  }

  hideBadge() {
    this.badge.hidden = true;
  }
}
