// 监票人页面: a delegate named trustee takes part in making the trustees' key and, after a secret vote
// closes, decrypts its sums — from this phone or computer, with the key file kept by the trustee.
//
// The seed (32 random bytes, everything the trustee holds) lives in this page's memory only: no
// localStorage, sessionStorage, cookie or IndexedDB, never in the DOM, never sent. What the page
// sends is exactly what congress/sealed/kit.py computes (next_message, decryption_message), with
// web/js/sealed.js: the three ceremony messages and the decryption shares with their proofs.

import { ApiError, me as fetchMe } from './api.js';
import { mountHeader, onLanguage } from './chrome.js';
import { clear, h, region } from './dom.js';
import { t } from './i18n.js';
import { connect } from './state.js';
import {
  ROUNDS, ceremonySummary, ceremonyTable, hasPosted, isAwaitingTrustees, keepCeremony, loadCeremony, loadDecryption, postedCount,
  roundOf, statusTag,
} from './trustees.js';

const $ = (id) => document.getElementById(id);
keepCeremony();
const KEY_FORMAT = 'congress-trustee-key';
const WS_LIMIT = 60 * 1024; // a larger command goes over HTTP (the websocket takes frames up to 64 KiB)

// ---- the key file (kit.key_file_text / seed_from_key_file) --------------------------------------

const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** The key file's text: byte for byte what Python's json.dumps writes for the same dict, plus "\n". */
export function keyFileText(seed) {
  return `{"format": "${KEY_FORMAT}", "version": 1, "seed": "${toHex(seed)}"}\n`;
}

/** The seed of a key file, or an Error saying it is not one. */
export function seedFromKeyFile(text) {
  let seed = null;
  try {
    const data = JSON.parse(text);
    const hex = data && data.format === KEY_FORMAT && typeof data.seed === 'string' ? data.seed.trim() : '';
    if (/^[0-9a-fA-F]{64}$/.test(hex)) seed = Uint8Array.from(hex.match(/../g), (pair) => parseInt(pair, 16));
  } catch {
    seed = null;
  }
  if (!seed) throw new Error(t('trustee.not_a_key_file'));
  return seed;
}

function saveFile(text, filename) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// ---- the page ----------------------------------------------------------------------------

async function main() {
  const who = await fetchMe().catch(() => ({ role: 'observer' }));
  const renderHeader = mountHeader($('top'), {
    title: () => t('trustee.title'),
    user: who.role !== 'observer' ? { name: who.name, csrf: who.csrf_token } : null,
  });
  if (who.role !== 'delegate') {
    $('loading').hidden = true;
    $('app').setAttribute('aria-busy', 'false');
    const intro = () => clear($('intro'), h('section', { class: 'card' },
      h('h2', {}, t('trustee.title')),
      h('p', {}, t('trustee.sign_in_first')),
      h('p', {}, h('a', { href: '/sign-in', class: 'button primary', id: 'sign-in-link' }, t('trustee.sign_in')))));
    intro();
    onLanguage(() => { renderHeader(); intro(); });
    return;
  }

  let sealed = null;
  try {
    sealed = await import('./sealed.js'); // parsing it needs BigInt
    if (!sealed.supportsSealing()) sealed = null;
  } catch (error) {
    console.warn('sealed.js cannot run here', error);
  }

  const { store, live } = connect();
  const key = { seed: null, source: null, fileName: null, confirmed: false, error: null, checked: new Set() };
  const run = { busy: false, error: null, waitingSince: null };
  const decrypting = new Map(); // vote id -> {busy, error, reply}
  const asked = new Set(); // vote ids whose decryption progress was read
  let focusAfter = null;

  const ceremony = () => store.state?.ceremony;
  const myIndex = () => ceremony()?.my_index ?? null;
  const ceremonyOf = (c) => ({ congress_id: c.congress_id, ceremony_id: c.ceremony_id, trustees: c.trustee_count,
                               threshold: c.threshold });

  /** A command; one larger than a websocket frame allows goes over HTTP with the same arguments. */
  async function send(op, args) {
    if (JSON.stringify(args).length < WS_LIMIT) return live.command(op, args);
    const response = await fetch(`/api/congresses/${store.state.congress.id}/commands/${op}`, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': who.csrf_token },
      body: JSON.stringify(args),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data.result;
  }

  /** Is this the seed the trustee used in ceremony `c`? Their posted communication key says. */
  function seedMatches(c, index) {
    const mine = roundOf(c, 1)[String(index)];
    if (!mine) return true; // nothing posted yet: any seed will do
    const tag = `${c.ceremony_id}:${index}`;
    if (key.checked.has(tag)) return true;
    const ok = sealed.round1(ceremonyOf(c), key.seed, index).comm_key === mine.comm_key;
    if (ok) key.checked.add(tag);
    return ok;
  }

  function useSeed(seed, source, fileName) {
    Object.assign(key, { seed, source, fileName, confirmed: source === 'file', error: null, checked: new Set() });
    const c = ceremony();
    if (source === 'file' && c && myIndex() !== null && !seedMatches(c, myIndex())) {
      Object.assign(key, { seed: null, source: null, fileName: null, confirmed: false, error: t('trustee.wrong_key') });
    }
  }

  // ---- the ceremony: post every round this trustee can (kit.next_message) ----------------------

  function nextRound(c, index) {
    for (const round of ROUNDS) {
      if (hasPosted(c, round, index)) continue;
      if (round > 1 && postedCount(c, round - 1) < c.trustee_count) return null; // waiting for the others
      return round;
    }
    return null;
  }

  async function messageFor(c, round, index) {
    const spec = ceremonyOf(c);
    if (round === 1) return sealed.round1(spec, key.seed, index);
    if (round === 2) {
      const keys = Object.fromEntries(Object.entries(roundOf(c, 1)).map(([i, m]) => [i, m.comm_key]));
      return sealed.round2(spec, key.seed, index, keys);
    }
    return sealed.round3(spec, key.seed, index, roundOf(c, 2));
  }

  async function advance() {
    const c = ceremony();
    const index = myIndex();
    if (run.busy || !sealed || !key.seed || !key.confirmed || !c || index === null || c.status !== 'collecting') return;
    const round = nextRound(c, index);
    if (round === null) return;
    run.busy = true;
    run.error = null;
    update();
    try {
      if (!seedMatches(c, index)) {
        Object.assign(key, { seed: null, source: null, fileName: null, confirmed: false, error: t('trustee.wrong_key') });
        return;
      }
      const message = await messageFor(c, round, index);
      if (ceremony() !== c || c.status !== 'collecting') return; // a new ceremony meanwhile: start over
      const reply = await live.command('post_trustee_message', { ceremony_id: c.ceremony_id, round, message });
      if (ceremony()?.ceremony_id === reply.ceremony_id) {
        c.messages[String(round)] = { ...roundOf(c, round), [String(index)]: reply.message };
      }
    } catch (error) {
      if (['already_posted', 'ceremony_closed'].includes(error.code)) await loadCeremony(store, live).catch(() => {});
      else if (error.code !== 'round_not_ready') run.error = error.message;
    } finally {
      run.busy = false;
      update();
    }
    if (!run.error) advance();
  }

  // ---- decrypting a closed secret vote's sums (kit.decryption_message) -------------------------

  function decryptUi(voteId) {
    if (!decrypting.has(voteId)) decrypting.set(voteId, { busy: false, error: null, reply: null });
    return decrypting.get(voteId);
  }

  /** The question ids of a pool's sums in the order the trustees decrypt them: ids ascending, as
   * congress.sealed.counting.to_decrypt does, whatever order the JSON had. */
  function questionOrder(sums) {
    return Object.keys(sums).map(Number).sort((a, b) => a - b).map(String);
  }

  async function decryptVote(vote) {
    const ui = decryptUi(vote.id);
    ui.busy = true;
    ui.error = null;
    update();
    try {
      const board = await live.command('sealed_ballots', { vote_id: vote.id });
      const tally = board.sealed_tally;
      if (!tally) throw new Error(t('trustee.not_closed'));
      const c = (await live.command('ceremony_state', { ceremony_id: board.sealing.ceremony_id })).ceremony;
      const index = c?.my_index ?? null;
      if (index === null) throw new Error(t('trustee.not_your_vote'));
      if (!seedMatches(c, index)) throw new Error(t('trustee.wrong_key'));
      // The sums must be those of the ballots on the public list (each delegate can find their receipt there).
      if (sealed.ballotsDigest(board.hashes) !== tally.ballots_digest || board.hashes.length !== tally.ballots) {
        throw new Error(t('trustee.list_mismatch'));
      }
      const alphas = [];
      for (const pool of tally.pools) {
        if (!pool.ballots) continue;
        for (const question of questionOrder(pool.sums)) {
          pool.sums[question].forEach((ct, k) => {
            // Every point read as coming from outside: a small-order point raised to the share leaks bits of it.
            sealed.readPoint(ct.alpha, `合计 ${question}/${k + 1} alpha`);
            sealed.readPoint(ct.beta, `合计 ${question}/${k + 1} beta`);
            alphas.push(ct.alpha);
          });
        }
      }
      const spec = ceremonyOf(c);
      const share = await sealed.myShare(spec, key.seed, index, roundOf(c, 2));
      const commitments = Object.fromEntries(Object.entries(roundOf(c, 2)).map(([i, m]) => [i, m.commitments]));
      if (sealed.pointHex(sealed.baseMul(share)) !== sealed.verificationKey(commitments, index)) {
        throw new Error(t('trustee.wrong_key'));
      }
      const context = sealed.decryptionContext(vote.id, c.public_key, tally.ballots_digest);
      const message = sealed.decryptShares(context, index, share, alphas);
      ui.reply = await send('post_decryption', { vote_id: vote.id, message });
      const current = store.state.votes.find((v) => v.id === vote.id);
      if (current) {
        current.shares_posted = [...new Set([...(current.shares_posted || []), index])].sort((a, b) => a - b);
        current.shares_needed = ui.reply.threshold;
        if (ui.reply.decrypted) current.awaiting_trustees = false;
      }
      focusAfter = `decrypt-${vote.id}-done`;
    } catch (error) {
      if (error.code === 'already_posted') {
        await loadDecryption(store, live, vote.id).catch(() => {});
      } else {
        ui.error = error.message || String(error);
        focusAfter = `decrypt-${vote.id}-error`;
      }
    } finally {
      ui.busy = false;
      update();
    }
  }

  // ---- what the page shows -------------------------------------------------------------------

  function introCard() {
    return h('section', { class: 'card', 'aria-labelledby': 'trustee-intro-h' },
      h('h2', { id: 'trustee-intro-h' }, t('trustee.heading')),
      h('p', {}, t('trustee.intro')));
  }

  function ceremonyCard() {
    const c = ceremony();
    const body = [];
    if (c === undefined) body.push(h('p', { class: 'muted' }, t('common.loading')));
    else if (c === null) body.push(h('p', { class: 'notice', id: 'no-ceremony' }, t('trustee.no_ceremony')));
    else body.push(h('p', { class: 'tags' }, statusTag(c)), ceremonySummary(c), ceremonyTable(c, { highlight: c.my_index }));
    return h('section', { class: 'card', 'aria-labelledby': 'ceremony-h', 'aria-live': 'polite' },
      h('h2', { id: 'ceremony-h', class: 'card-label' }, t('trustees.title')), body);
  }

  function keyDeps() {
    const c = ceremony();
    return [c ? [c.ceremony_id, c.status, c.my_index, c.trustee_count, ROUNDS.map((r) => postedCount(c, r)),
      ROUNDS.map((r) => (c.my_index ? hasPosted(c, r, c.my_index) : false))] : c,
    Boolean(key.seed), key.source, key.fileName, key.confirmed, key.error, run.busy, run.error, Boolean(sealed)];
  }

  function loadInput(label, id) {
    const input = h('input', { type: 'file', id, accept: '.json,application/json' });
    input.addEventListener('change', async () => {
      const file = input.files?.[0];
      if (!file) return;
      try {
        useSeed(seedFromKeyFile(await file.text()), 'file', file.name);
      } catch (error) {
        key.error = error.message;
      }
      focusAfter = key.error ? 'key-error' : 'key-progress';
      update();
      advance();
    });
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, h('p', { class: 'hint' }, t('trustee.load_hint')));
  }

  function keyCard() {
    const c = ceremony();
    if (!c) return null;
    const index = c.my_index;
    if (index === null || index === undefined) {
      return h('section', { class: 'card', id: 'not-trustee' }, h('p', { class: 'not-trustee' }, t('trustee.not_trustee')));
    }
    const title = h('h2', { id: 'my-key-h' }, t('trustee.my_key', { n: index }));
    const section = (...body) => h('section', { class: 'card trustee-key', 'aria-labelledby': 'my-key-h' }, title, body);
    if (!sealed) return section(h('p', { class: 'notice bad', role: 'alert' }, t('trustee.cannot_compute')));
    const error = key.error ? h('p', { class: 'notice bad', role: 'alert', id: 'key-error', tabindex: '-1' }, key.error) : null;
    const startedHere = hasPosted(c, 1, index);
    const filename = t('trustee.file_name', { id: store.state.me.employee_id });

    if (!key.seed) {
      if (c.status === 'failed') return section(error, h('p', {}, t('trustee.key_failed')));
      if (c.status === 'ready') {
        return section(error, h('p', {}, t('trustee.key_done')), loadInput(t('trustee.load_for_decrypt'), 'key-file'));
      }
      if (startedHere) {
        return section(error, h('p', { class: 'notice warn' }, t('trustee.load_to_continue')),
          loadInput(t('trustee.load'), 'key-file'));
      }
      return section(error,
        h('h3', {}, t('trustee.step_generate')),
        h('p', {}, t('trustee.generate_intro')),
        h('button', {
          type: 'button', class: 'primary big', id: 'generate-key',
          on: {
            click: () => {
              useSeed(sealed.newSeed(), 'generated', filename);
              saveFile(keyFileText(key.seed), filename);
              focusAfter = 'key-saved-h';
              update();
            },
          },
        }, t('trustee.generate')),
        h('h3', { class: 'or-line' }, t('trustee.or_load')),
        loadInput(t('trustee.load'), 'key-file'));
    }

    if (!key.confirmed) { // generated just now: the trustee saves the file before the key is used
      return section(
        h('div', { class: 'notice warn key-warning' },
          h('h3', { id: 'key-saved-h', tabindex: '-1' }, t('trustee.downloaded', { file: key.fileName })),
          h('p', {}, h('strong', {}, t('trustee.save_it'))),
          h('p', {}, t('trustee.never_give')),
          h('p', {}, t('trustee.memory_only'))),
        h('div', { class: 'actions' },
          h('button', { type: 'button', id: 'download-again', on: { click: () => saveFile(keyFileText(key.seed), key.fileName) } },
            t('trustee.download_again')),
          h('button', {
            type: 'button', class: 'primary', id: 'key-saved',
            on: { click: () => { key.confirmed = true; focusAfter = 'key-progress'; update(); advance(); } },
          }, t('trustee.saved_continue'))));
    }

    return section(error,
      h('p', { class: 'key-loaded' }, h('span', { class: 'check', 'aria-hidden': 'true' }, '✓'),
        t(key.source === 'file' ? 'trustee.loaded' : 'trustee.in_memory', { file: key.fileName })),
      progressWords(c, index),
      run.error ? h('p', { class: 'notice bad', role: 'alert', id: 'run-error' }, t('trustee.post_failed', { message: run.error })) : null,
      run.error ? h('button', { type: 'button', on: { click: () => { run.error = null; update(); advance(); } } }, t('trustee.retry')) : null,
      h('p', { class: 'hint' }, t('trustee.memory_only')));
  }

  function progressWords(c, index) {
    let words;
    if (c.status === 'ready') words = t('trustee.progress_ready');
    else if (c.status === 'failed') words = t('trustee.progress_failed');
    else if (run.busy) {
      const round = nextRound(c, index) ?? 1;
      words = t('trustee.progress_posting', { round, name: t(`trustees.round_name.${round}`) });
    } else {
      const done = ROUNDS.filter((r) => hasPosted(c, r, index));
      const last = done.at(-1);
      words = last
        ? t('trustee.progress_waiting', { round: last, name: t(`trustees.round_name.${last}`),
          done: postedCount(c, last === 3 ? 3 : last), n: c.trustee_count })
        : t('trustee.progress_start');
    }
    return h('p', { class: ['key-progress', c.status === 'ready' ? 'ok' : null], id: 'key-progress', role: 'status', tabindex: '-1' }, words);
  }

  function awaitingVotes() {
    return store.state.votes.filter((v) => v.is_secret && v.status === 'closed'
      && (isAwaitingTrustees(v) || decrypting.get(v.id)?.reply));
  }

  function decryptDeps() {
    const c = ceremony();
    return [c?.my_index ?? null, Boolean(key.seed), awaitingVotes().map((v) => [v.id, v.title, v.awaiting_trustees,
      v.shares_posted || [], v.shares_needed || null, v.sealing?.ceremony_id, decrypting.get(v.id) || null])];
  }

  function decryptCard() {
    const c = ceremony();
    if (!c || c.my_index === null || c.my_index === undefined || !sealed) return null;
    const votes = awaitingVotes();
    for (const vote of votes) {
      if (!asked.has(vote.id)) {
        asked.add(vote.id);
        loadDecryption(store, live, vote.id).catch(() => {});
      }
    }
    return h('section', { class: 'card', 'aria-labelledby': 'decrypt-h' },
      h('h2', { id: 'decrypt-h' }, t('trustee.decrypt_title')),
      h('p', { class: 'hint' }, t('trustee.decrypt_intro')),
      votes.length ? h('ul', { class: 'decrypt-list' }, votes.slice().reverse().map(decryptItem))
        : h('p', { class: 'muted', id: 'nothing-to-decrypt' }, t('trustee.nothing_to_decrypt')));
  }

  function decryptItem(vote) {
    const ui = decryptUi(vote.id);
    const posted = vote.shares_posted || [];
    const needed = vote.shares_needed ?? (vote.sealing?.ceremony_id === ceremony()?.ceremony_id ? ceremony().threshold : null);
    const count = h('p', { class: 'shares-line', id: `decrypt-${vote.id}-count` },
      t('trustee.shares', { k: posted.length, t: needed ?? '?' }));
    const mine = ui.reply !== null || (vote.sealing?.ceremony_id === ceremony()?.ceremony_id && posted.includes(ceremony().my_index));
    let action;
    if (!isAwaitingTrustees(vote)) {
      action = h('p', { class: 'notice ok', id: `decrypt-${vote.id}-done`, tabindex: '-1' }, t('trustee.decrypted'));
    } else if (mine) {
      action = h('p', { class: 'notice ok', id: `decrypt-${vote.id}-done`, tabindex: '-1' }, t('trustee.you_posted'));
    } else if (ui.busy) {
      action = h('p', { class: 'sending', role: 'status' }, t('trustee.decrypting'));
    } else {
      action = [
        h('button', {
          type: 'button', class: 'primary', id: `decrypt-${vote.id}`, disabled: !key.seed,
          on: { click: () => decryptVote(vote) },
        }, t('trustee.decrypt')),
        key.seed ? null : h('p', { class: 'hint' }, t('trustee.decrypt_needs_key')),
      ];
    }
    return h('li', { class: 'decrypt-item', dataset: { voteId: vote.id } },
      h('h3', { class: 'data-text' }, vote.title),
      h('p', { class: 'hint' }, t('trustee.closed_cast', { n: vote.sealed_ballots ?? vote.cast ?? '—' })),
      count, action,
      ui.error ? h('p', { class: 'notice bad', role: 'alert', id: `decrypt-${vote.id}-error`, tabindex: '-1' },
        t('trustee.decrypt_failed', { message: ui.error })) : null);
  }

  const parts = [
    region($('intro'), () => true, introCard),
    region($('ceremony'), () => ceremony() ?? (ceremony() === null ? null : 'loading'), ceremonyCard),
    region($('my-key'), keyDeps, keyCard),
    region($('decrypt'), decryptDeps, decryptCard),
  ];

  function update(force = false) {
    if (!store.state) return;
    $('app').setAttribute('aria-busy', 'false');
    $('loading').hidden = true;
    for (const part of parts) part(force);
    if (focusAfter) {
      const target = document.getElementById(focusAfter);
      focusAfter = null;
      target?.focus();
    }
  }

  store.subscribe((change) => {
    if (change.kind === 'hello' && !change.resumed) {
      asked.clear();
      advance(); // the snapshot brings the ceremony: post whatever round this trustee can
    }
    update();
    if (change.kind === 'event' && /^(trustee|trustees)\./.test(change.event.type)) advance();
  });
  onLanguage(() => update(true));
}

clear($('loading'), t('common.loading'));
main();
