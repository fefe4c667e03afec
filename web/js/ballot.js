// The delegate's ballot for one open vote: who may vote, clear choices, a confirmation step, and
// "已记录" only when the server's ack says the ballot is durable — with the receipt.

import { formatTime, h } from './dom.js';
import { delegateType, lang, optionLabel, t } from './i18n.js';
import { ballotBlocker } from './state.js';

// vote id -> {answers: {qid: key | [names]}, step, reply, error}; survives rebuilds of the panel
const ui = new Map();

function uiFor(vote) {
  if (!ui.has(vote.id)) ui.set(vote.id, { answers: {}, step: 'choose', reply: null, error: null });
  return ui.get(vote.id);
}

/** What the panel shows depends on this, compared between renders. */
export function ballotDeps(state, vote) {
  return { vote, me: state.me, ui: ui.get(vote.id) || null };
}

function questionChoices(vote, question, answers, refresh) {
  const name = `v${vote.id}-q${question.id}`;
  const isElection = question.kind === 'election';
  const chosen = isElection ? answers[question.id] || [] : answers[question.id];
  const full = isElection && chosen.length >= (question.seats || 1);
  const inputs = question.options.map((option, index) => {
    const id = `${name}-o${index}`;
    const checked = isElection ? chosen.includes(option.key) : chosen === option.key;
    const input = h('input', {
      type: isElection ? 'checkbox' : 'radio', name, id, value: option.key, checked,
      disabled: full && !checked,
      on: {
        change: () => {
          if (isElection) {
            const list = new Set(answers[question.id] || []);
            if (input.checked) list.add(option.key);
            else list.delete(option.key);
            answers[question.id] = question.options.map((o) => o.key).filter((k) => list.has(k));
          } else {
            answers[question.id] = option.key;
          }
          refresh(id);
        },
      },
    });
    return h('label', { class: ['option', `option-${option.key}`], for: id }, input,
      h('span', { class: ['yes', 'no', 'abstain'].includes(option.key) ? null : 'data-text' }, optionLabel(option)));
  });
  return h('fieldset', { class: 'question' },
    h('legend', { class: 'data-text' }, question.text),
    isElection ? h('p', { class: 'hint', id: `${name}-hint` },
      t('vote.choose_up_to', { n: question.seats || 1, chosen: chosen.length })) : null,
    h('div', { class: ['options', isElection ? 'options-list' : `options-${question.options.length}`] }, inputs));
}

function answerText(question, answer) {
  if (question.kind === 'election') {
    return answer && answer.length ? answer.join('、') : t('vote.no_selection');
  }
  const option = question.options.find((o) => o.key === answer);
  return option ? optionLabel(option) : t('vote.no_selection');
}

function isComplete(vote, answers) {
  return vote.questions.every((q) => q.kind === 'election' || answers[q.id] !== undefined);
}

function recordedBlock(vote, reply, sealedHash) {
  // A sealed ballot's receipt is computed here, from what this phone sent, not taken from the server.
  const mismatch = sealedHash && reply.ballot_hash && reply.ballot_hash !== sealedHash;
  return h('div', { class: 'recorded', role: 'status', id: `v${vote.id}-recorded`, tabindex: '-1' },
    h('p', { class: 'recorded-title' }, h('span', { class: 'check', 'aria-hidden': 'true' }, '✓'), t('vote.recorded')),
    h('p', {}, t('vote.recorded_detail', { time: formatTime(reply.at) })),
    sealedHash ? h('p', { class: 'hint' }, t('vote.sealed_note')) : null,
    mismatch ? h('p', { class: 'notice bad', role: 'alert' }, t('vote.receipt_mismatch')) : null,
    reply.receipt
      ? [h('p', { class: 'receipt-line' }, `${t('vote.receipt')}：`, h('strong', { class: 'receipt' }, reply.receipt)),
        h('p', { class: 'hint' }, sealedHash ? t('vote.sealed_receipt_hint') : t('vote.receipt_hint'))]
      : (reply.receipt_withheld ? h('p', { class: 'hint' }, t('vote.receipt_withheld')) : null));
}

/** Whether this browser can seal a ballot: BigInt and WebCrypto (a secure context). */
function canSeal() {
  return typeof BigInt === 'function' && Boolean(globalThis.crypto?.subtle && globalThis.crypto?.getRandomValues);
}

/** The ballot of a secret vote, encrypted on this phone (web/js/sealed.js; docs/secrecy.md). */
async function sealAnswers(vote, answers) {
  const sealed = await import('./sealed.js');  // loaded only for a secret vote; fails without BigInt
  const questions = vote.questions.map((q) => sealed.sealedQuestion(q.id, q.kind, q.options.length, q.seats));
  const marks = Object.fromEntries(vote.questions.map((q) => {
    const chosen = q.kind === 'election' ? answers[q.id] || [] : [answers[q.id]];
    return [q.id, q.options.map((o) => (chosen.includes(o.key) ? 1 : 0))];
  }));
  const content = sealed.sealBallot(vote.id, vote.sealing.public_key, questions, marks);
  return { content, hash: sealed.ballotHash(content) };
}

function mineRecorded(vote, live, refresh) {
  return h('div', { class: 'recorded', role: 'status' },
    h('p', { class: 'recorded-title' }, h('span', { class: 'check', 'aria-hidden': 'true' }, '✓'), t('vote.mine_recorded')),
    h('p', {}, t('vote.mine_recorded_at', { time: formatTime(vote.my_ballot_at) })),
    live ? myReceipt(vote, live, refresh) : null);
}

/** What the server says of a looked-up ballot (its words are Chinese): in English, the same from its fields. */
function receiptWords(vote, mine) {
  if (lang() !== 'en') return mine.words;
  if (mine.is_sealed && !mine.receipt) return t('vote.receipt_not_kept');
  if (vote.status === 'cancelled') return t('vote.receipt_cancelled');
  if (vote.status === 'open') return t('vote.receipt_will_count');
  if (mine.is_sealed && vote.status === 'closed' && !vote.result) return t('vote.receipt_awaiting');
  if (mine.is_counted) return t('vote.receipt_counted');
  return mine.words;
}

/** "查看我的回执": the receipt again after a reload (my_ballot), and whether the ballot is counted.
 * For a secret vote it is the fingerprint of the encrypted ballot; no choice is shown, none is kept. */
function myReceipt(vote, live, refresh) {
  const local = uiFor(vote);
  const id = `v${vote.id}-my-receipt`;
  if (!local.mine) {
    return h('button', {
      type: 'button', id, on: {
        click: async () => {
          try {
            local.mine = await live.command('my_ballot', { vote_id: vote.id });
          } catch (err) {
            local.mine = { error: err.message };
          }
          refresh(id);
        },
      },
    }, t('vote.show_my_receipt'));
  }
  const mine = local.mine;
  if (mine.error) return h('p', { class: 'notice bad', role: 'alert', id }, mine.error);
  return h('div', { class: 'my-receipt', id, tabindex: '-1' },
    mine.receipt ? h('p', { class: 'receipt-line' }, `${t('vote.receipt')}：`, h('strong', { class: 'receipt' }, mine.receipt)) : null,
    mine.words ? h('p', { class: mine.is_counted ? 'notice ok' : 'hint' }, receiptWords(vote, mine)) : null,
    mine.is_sealed ? h('p', { class: 'hint' }, t('vote.sealed_receipt_hint')) : null);
}

/**
 * The panel for one vote. `refresh(focusId)` asks the page to render again (and focus an element);
 * `isConnected` says whether a submission can go out now.
 */
export function ballotPanel(state, vote, live, refresh, isConnected) {
  const me = state.me;
  const local = uiFor(vote);
  const heading = h('h3', { class: 'vote-title data-text', id: `v${vote.id}-title`, tabindex: '-1' }, vote.title);
  const tags = h('p', { class: 'tags' },
    h('span', { class: 'tag' }, vote.is_secret ? t('vote.secret') : t('vote.named')),
    vote.round > 1 ? h('span', { class: 'tag' }, t('vote.round', { n: vote.round })) : null,
    vote.closes_at ? h('span', { class: 'tag' }, t('vote.closes_at', { time: formatTime(vote.closes_at) })) : null);
  const section = (...body) => h('section', { class: 'card vote-panel', 'aria-labelledby': heading.id },
    h('p', { class: 'card-label live-dot' }, t('vote.open')), heading, tags, body);

  if (local.step === 'recorded') return section(recordedBlock(vote, local.reply, local.sealedHash));
  if (local.step === 'late') return section(lateBlock(vote, local.reply));
  if (local.step === 'sending') {
    return section(h('p', { class: 'sending', role: 'status', id: `v${vote.id}-sending`, tabindex: '-1' }, t('vote.sending')),
      isConnected ? null : h('p', { class: 'notice warn' }, t('vote.sending_offline')));
  }
  const blocker = ballotBlocker(state, vote);
  if (blocker === 'already_voted') return section(mineRecorded(vote, live, refresh));
  if (blocker === 'not_voting') return section(h('p', { class: 'notice' }, t('vote.not_voting', { type: delegateType(me.delegate_type) })));
  if (blocker === 'hand_counted') return section(h('p', { class: 'notice' }, t('vote.hand_counted')));
  if (blocker === 'not_checked_in') return section(h('p', { class: 'notice warn' }, t('vote.not_checked_in')));
  if (vote.is_secret && (!vote.sealing || !canSeal() || local.cannotSeal)) {
    return section(h('p', { class: 'notice bad', role: 'alert', id: `v${vote.id}-cannot-seal` }, t('vote.cannot_seal')));
  }

  const error = local.error
    ? h('p', { class: 'notice bad', role: 'alert', id: `v${vote.id}-error` }, t('vote.failed', { message: local.error }))
    : null;

  async function submit() {
    local.step = 'sending';
    local.error = null;
    refresh(`v${vote.id}-sending`);
    const answers = Object.fromEntries(vote.questions.map((q) => [String(q.id), local.answers[q.id] ?? (q.kind === 'election' ? [] : null)]));
    let body = { vote_id: vote.id, answers };
    if (vote.is_secret) {
      try {
        const sealed = await sealAnswers(vote, local.answers);
        body = { vote_id: vote.id, sealed: sealed.content };
        local.sealedHash = sealed.hash;
      } catch (err) {
        console.error('sealing the ballot failed', err);
        local.step = 'confirm';
        local.cannotSeal = true;
        refresh(`v${vote.id}-cannot-seal`);
        return;
      }
    }
    try {
      local.reply = await live.command('cast_ballot', body);
      if (local.reply.recorded === false) {  // arrived after the close: not counted, and said so
        local.step = 'late';
        refresh(`v${vote.id}-late`);
        return;
      }
      local.step = 'recorded';
      refresh(`v${vote.id}-recorded`);
    } catch (err) {
      if (err.code === 'already_voted') {
        local.step = 'choose';
        vote.my_ballot_at = vote.my_ballot_at || new Date().toISOString();
        refresh(`v${vote.id}-title`);
        return;
      }
      local.step = 'confirm';
      local.error = err.message;
      refresh(`v${vote.id}-error`);
    }
  }

  if (local.step === 'confirm') {
    return section(
      h('h4', { class: 'confirm-title', id: `v${vote.id}-confirm`, tabindex: '-1' }, t('vote.confirm_title')),
      h('dl', { class: 'confirm-list' }, vote.questions.map((q) => h('div', {},
        h('dt', { class: 'data-text' }, q.text), h('dd', { class: q.kind === 'yes_no' ? null : 'data-text' }, answerText(q, local.answers[q.id]))))),
      h('p', { class: 'hint' }, vote.is_changeable ? t('vote.confirm_hint_changeable') : t('vote.confirm_hint')),
      error,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary big', id: `v${vote.id}-submit`, on: { click: submit } }, t('vote.submit')),
        h('button', {
          type: 'button', id: `v${vote.id}-back`,
          on: { click: () => { local.step = 'choose'; local.error = null; refresh(`v${vote.id}-next`); } },
        }, t('common.back'))));
  }

  const missing = h('p', { class: 'notice bad', role: 'alert', id: `v${vote.id}-missing`, hidden: true }, t('vote.answer_all'));
  return section(
    vote.my_ballot_at ? mineRecorded(vote, live, refresh) : null,
    vote.is_secret ? h('p', { class: 'hint sealed-help' }, t('vote.sealed_help')) : null,
    vote.questions.map((q) => questionChoices(vote, q, local.answers, refresh)),
    missing,
    h('button', {
      type: 'button', class: 'primary big', id: `v${vote.id}-next`,
      on: {
        click: () => {
          if (!isComplete(vote, local.answers)) {
            missing.hidden = false;
            return;
          }
          local.step = 'confirm';
          refresh(`v${vote.id}-confirm`);
        },
      },
    }, t('vote.next')));
}

function lateBlock(vote, reply) {
  return h('div', { class: 'notice bad late-ballot', role: 'alert', id: `v${vote.id}-late`, tabindex: '-1' },
    h('p', { class: 'recorded-title' }, t('vote.late_title')),
    // The server's words name the close time; in English the page says the same without it.
    h('p', {}, lang() === 'en' ? t('vote.late_detail') : reply.words));
}

/** What stays on screen about this phone's ballot once the vote has closed: the receipt; that the
 * ballot arrived after the close and was not counted; or that it is still on its way. */
export function keptReceipt(vote, live, refresh) {
  const local = ui.get(vote.id);
  if (local?.step === 'recorded') return recordedBlock(vote, local.reply, local.sealedHash);
  if (local?.step === 'late') return lateBlock(vote, local.reply);
  if (local?.step === 'sending') {
    return h('p', { class: 'notice warn', role: 'status', id: `v${vote.id}-in-flight` }, t('vote.in_flight_at_close'));
  }
  return vote.my_ballot_at && live ? myReceipt(vote, live, refresh) : null;
}

/** Changes of what keptReceipt shows, for the page's region deps. */
export function keptDeps(vote) {
  const local = ui.get(vote.id);
  return local ? [local.step, local.reply?.receipt ?? null, local.mine ?? null] : null;
}
