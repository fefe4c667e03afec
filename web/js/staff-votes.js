// Staff: votes — the create form (staff-vote-create.js), open / close / certify /
// publish / cancel / repeat, live progress by group, which hand-counted groups have reported,
// hand-count entry for any group, ballots that arrived after the close, and the stored result.
// Opening, closing, publishing and repeating ask first, in the page (staff-vote-steps.js).
// Running votes come first, then drafts, so the progress of the running vote is in view.

import { askFirst } from './confirm.js';
import { clear, data, h, region } from './dom.js';
import { handCountForm } from './handcount.js';
import { t, tx } from './i18n.js';
import { voteResult } from './results.js';
import { onEvents } from './state.js';
import { createVoteForm } from './staff-vote-create.js';
import { closeQuestion, openQuestion, publishQuestion, repeatQuestion } from './staff-vote-steps.js';
import { mountTrusteesCard } from './staff-trustees.js';
import { isAwaitingTrustees } from './trustees.js';

// ballot.late (staff only): a ballot confirmed while the vote was open reached the server after
// the close and was not counted. Counted per vote from the events this page has seen: the
// snapshot has no such figure, so a reload starts the count again at 0.
onEvents('ballot', (state, event) => {
  if (event.type !== 'ballot.late') return;
  const vote = state.votes.find((v) => v.id === event.payload.vote_id);
  if (vote) vote.late_ballots = (vote.late_ballots || 0) + 1;
});

const ASK = { open_vote: openQuestion, close_vote: closeQuestion, publish_vote: publishQuestion, repeat_vote: repeatQuestion };
// Running votes first, then drafts, then those waiting for publication, then the rest.
const ORDER = { open: 0, draft: 1, closed: 2, published: 3, cancelled: 4 };

export function mountVotes(root, { store, live }) {
  let built = false;
  const trusteesBox = h('div', { class: 'trustees-box' }); // 监票人与密钥 (staff-trustees.js), kept across rebuilds
  const updateTrustees = mountTrusteesCard(trusteesBox, { store, live });
  let cardsBox;
  const cards = new Map(); // vote id -> {el, updates}
  let createRegions = [];

  function statusEl(id = null) {
    return h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite', id });
  }

  function showIn(status) {
    return (cls, text) => {
      status.className = ['form-status', cls].filter(Boolean).join(' ');
      status.textContent = text;
    };
  }

  // A step's outcome on a card ("已创建第 2 轮表决…"): the step's own event redraws the card's
  // controls, before or after the answer comes back, so the words are written to whichever status
  // line the card shows now, and kept a little while for a redraw that comes after them.
  const notes = new Map(); // vote id -> {cls, text, at}
  const NOTE_MS = 15000;
  function sayOn(voteId) {
    return (cls, text) => {
      notes.set(voteId, { cls, text, at: Date.now() });
      const el = document.getElementById(`vote-${voteId}-status`);
      if (el) showIn(el)(cls, text);
    };
  }

  /** Send one command; `show(cls, text)` tells how it went (showIn(element) or sayOn(voteId)). */
  async function run(show, op, args) {
    if (show instanceof Element) show = showIn(show);
    show('', t('common.sending'));
    try {
      const result = await live.command(op, args);
      show('ok', t('common.saved'));
      return result;
    } catch (error) {
      const words = t('common.error', { message: error.message });
      show('bad', error.code === 'no_trustee_key' ? `${words} ${t('votes.see_trustees')}` : words);
      return null;
    }
  }

  // ---- one vote's card -----------------------------------------------------------------
  function voteOf(id) {
    return store.state.votes.find((v) => v.id === id);
  }

  // After a step, focus goes to the card it concerns (the button pressed is gone once the card is
  // redrawn): at once when `force` (a new round), else only if focus was lost with the button.
  let focusAfter = null;
  function settleFocus() {
    if (!focusAfter) return;
    if (Date.now() > focusAfter.until) {
      focusAfter = null;
      return;
    }
    const card = cards.get(focusAfter.voteId);
    if (!card) return;
    const active = document.activeElement;
    if (focusAfter.force || !active || active === document.body) {
      card.el.focus();
      card.el.scrollIntoView({ block: 'nearest' });
      focusAfter = null;
    }
  }

  /** 开始表决, 截止并计票, 公布结果, 重新表决: the dialog says what will happen; then the step. */
  async function askThenRun(vote, op) {
    const question = ASK[op](voteOf(vote.id) || vote, store);
    const answer = await askFirst({ ...question, id: `vote-${vote.id}-ask`, watch: (fn) => store.subscribe(fn) });
    if (!answer) return;
    const say = sayOn(vote.id);
    const result = await run(say, op, { vote_id: vote.id });
    if (!result) return;
    if (op === 'repeat_vote') {
      say('ok', t('votes.repeated', { n: result.round }));
      focusAfter = { voteId: result.id, force: true, until: Date.now() + 5000 };
    } else {
      say('ok', t(`votes.done.${op}`));
      focusAfter = { voteId: vote.id, force: false, until: Date.now() + 5000 };
    }
    if (op === 'open_vote' && answer.option) {
      const item = store.state.agenda.find((i) => i.id === vote.agenda_item_id);
      if (await run(say, 'set_current_item', { item_id: vote.agenda_item_id })) {
        say('ok', t('votes.opened_and_moved', { item: item ? item.title : '' }));
      }
    }
    settleFocus();
  }

  function controls(vote) {
    const status = statusEl(`vote-${vote.id}-status`);
    const note = notes.get(vote.id);
    if (note && Date.now() - note.at < NOTE_MS) showIn(status)(note.cls, note.text);
    const say = sayOn(vote.id);
    const buttons = [];
    const go = (label, op, args = {}, cls = 'primary') => h('button', {
      type: 'button', class: cls, id: `vote-${vote.id}-${op}`,
      on: { click: () => (ASK[op] ? askThenRun(vote, op) : run(say, op, { vote_id: vote.id, ...args })) },
    }, label);
    const inlineForm = (label, inputLabel, op, key, cls = 'primary') => {
      const input = h('input', { type: 'text', id: `vote-${vote.id}-${op}-input`, required: true, autocomplete: 'off' });
      const form = h('form', { class: 'inline-form' }, h('label', { for: input.id }, inputLabel), input,
        h('button', { type: 'submit', class: cls, id: `vote-${vote.id}-${op}` }, label));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        run(say, op, { vote_id: vote.id, [key]: input.value.trim() });
      });
      return form;
    };
    if (vote.status === 'draft') buttons.push(go(t('votes.open'), 'open_vote'));
    if (vote.status === 'open') buttons.push(go(t('votes.close'), 'close_vote'));
    if (isAwaitingTrustees(vote)) buttons.push(awaitingLine(vote));
    else if (vote.status === 'closed' && !vote.certified_by) buttons.push(inlineForm(t('votes.certify'), t('votes.scrutineer'), 'certify_vote', 'scrutineer'));
    if (vote.status === 'closed' && vote.certified_by) buttons.push(go(t('votes.publish'), 'publish_vote'));
    // 重新表决 is kept away from 总监票人确认 and 公布结果: behind 更多, and it asks first.
    const more = ['closed', 'published', 'cancelled'].includes(vote.status)
      ? h('details', { class: 'more-box', id: `vote-${vote.id}-more` }, h('summary', {}, t('votes.more')),
        h('p', { class: 'hint' }, t('votes.repeat_hint')),
        h('div', { class: 'actions' }, go(t('votes.repeat'), 'repeat_vote', {}, '')))
      : null;
    const cancel = ['draft', 'open'].includes(vote.status)
      ? h('details', { class: 'cancel-box' }, h('summary', {}, t('votes.cancel')),
        inlineForm(t('votes.cancel'), t('votes.cancel_reason'), 'cancel_vote', 'reason', 'danger'))
      : null;
    return h('div', {}, keyNote(vote), buttons.length ? h('div', { class: 'actions' }, buttons) : null, cancel, more, status);
  }

  /** Ballots that reached the server after the close (ballot.late), not counted. */
  function lateLine(vote) {
    if (!vote.late_ballots || !['closed', 'published'].includes(vote.status)) return null;
    return h('p', { class: 'notice warn late-ballots', id: `vote-${vote.id}-late` }, t('votes.late_ballots', { n: vote.late_ballots }));
  }

  /** A closed secret vote: no result until `threshold` trustees have decrypted the sums (no certifying before). */
  function awaitingLine(vote) {
    const ceremony = store.state.ceremony;
    const needed = vote.shares_needed ?? (ceremony && ceremony.ceremony_id === vote.sealing?.ceremony_id ? ceremony.threshold : null);
    return h('p', { class: 'notice awaiting-trustees', id: `vote-${vote.id}-awaiting`, role: 'status' },
      t('votes.awaiting_trustees', { k: (vote.shares_posted || []).length, t: needed ?? '?' }));
  }

  /** A draft secret vote cannot open before the trustees' key is ready. */
  function keyNote(vote) {
    if (!vote.is_secret || vote.status !== 'draft' || store.state.ceremony === undefined) return null;
    return store.state.ceremony?.status === 'ready' ? null : h('p', { class: 'hint', id: `vote-${vote.id}-needs-key` }, t('votes.needs_key'));
  }

  function progressTable(vote) {
    const progress = store.progress.get(vote.id);
    if (vote.status !== 'open' || !progress) return null;
    return h('div', { class: 'vote-progress-staff' }, h('h4', {}, t('vote.progress')), h('p', { class: 'progress-line' }, t('vote.progress_line', progress)),
      h('progress', { max: Math.max(1, progress.present), value: progress.cast, 'aria-label': t('vote.progress') }),
      h('table', { class: 'compact', id: `vote-${vote.id}-groups` },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('votes.col_group')), h('th', { scope: 'col' }, t('votes.col_mode')),
          h('th', { scope: 'col', class: 'num' }, t('votes.col_cast')), h('th', { scope: 'col' }, t('votes.col_reported')))),
        h('tbody', {}, progress.groups.map((g) => h('tr', {},
          h('th', { scope: 'row', class: 'data-text' }, g.name),
          h('td', {}, t(g.mode === 'hand_count' ? 'votes.mode_hand' : 'votes.online')),
          h('td', { class: 'num' }, `${g.cast} / ${g.present} / ${g.eligible}`),
          h('td', {}, g.mode === 'hand_count' ? reportedTag(vote, g) : '—'))))));
  }

  // `progress` says which groups reported; the group_count.entered event (and list_group_counts
  // after a reload) may say so sooner.
  function reportedTag(vote, g) {
    const count = vote.group_counts?.[g.group_id];
    const isReported = g.reported || Boolean(count);
    return h('span', { class: ['tag', isReported ? 'tag-ok' : 'tag-warn'] },
      t(isReported ? 'votes.reported' : 'votes.not_reported'),
      count ? data(`（${count.entered_by ?? ''} · ${count.scrutineer}）`) : '');
  }

  async function loadGroupCounts(vote) {
    const hasHand = Object.values(vote.group_modes || {}).includes('hand_count');
    if (!hasHand || vote.status !== 'open') return;
    const result = await live.command('list_group_counts', { vote_id: vote.id });
    const current = voteOf(vote.id);
    if (!current) return;
    current.group_counts = { ...Object.fromEntries(result.counts.map((c) => [c.group_id, c])), ...(current.group_counts || {}) };
    updateCards(false);
  }

  function handCounts(vote) {
    const groups = store.state.attendance.groups.filter((g) => (vote.group_modes || {})[String(g.group_id)] === 'hand_count');
    if (vote.status !== 'open' || !groups.length) return null;
    return h('details', { class: 'handcount-box' }, h('summary', {}, t('votes.enter_count')),
      handCountForm({ vote, groups: groups.map((g) => ({ group_id: g.group_id, name: g.name })), live, prefix: `staff-hc-${vote.id}` }));
  }

  function resultBox(vote) {
    if (!vote.result) return null;
    const state = vote.status === 'published' ? t('votes.status.published') : t('votes.result_unpublished');
    return h('div', { class: 'stored-result' }, h('h4', {}, t('votes.stored_result', { state })), voteResult(vote, vote.result));
  }

  function makeCard(vote) {
    const head = h('div');
    const ctl = h('div');
    const prog = h('div');
    const hand = h('div');
    const late = h('div');
    const res = h('div');
    // The progress right under the title, above the buttons: in view at 1366×768 (issue 21).
    const el = h('article', { class: 'card vote-card', id: `vote-card-${vote.id}`, tabindex: '-1',
      'aria-labelledby': `vote-${vote.id}-h`, dataset: { voteId: vote.id } }, head, prog, ctl, hand, late, res);
    const updates = [
      region(head, () => { const v = voteOf(vote.id); return [v.title, v.status, v.round, v.is_secret, v.certified_by, v.cancel_reason, v.agenda_item_id, isAwaitingTrustees(v)]; }, () => {
        const v = voteOf(vote.id);
        const item = store.state.agenda.find((i) => i.id === v.agenda_item_id);
        return [h('h3', { id: `vote-${v.id}-h` }, data(v.title), h('span', { class: ['tag', `status-${v.status}`] }, t(`votes.status.${v.status}`))),
          h('p', { class: 'hint' }, [item ? data(item.title) : null, v.is_secret ? t('vote.secret') : t('vote.named'),
            v.round > 1 ? t('vote.round', { n: v.round }) : null,
            v.certified_by ? tx('votes.certified', { name: data(v.certified_by) })
              : (isAwaitingTrustees(v) ? t('votes.awaiting_short') : (v.status === 'closed' ? t('votes.not_certified') : null)),
          ].filter(Boolean).flatMap((part, i) => (i ? [' · ', part] : [part]))),
          v.cancel_reason ? h('p', { class: 'notice warn' }, tx('vote.cancelled', { reason: data(v.cancel_reason) })) : null,
          h('ol', { class: 'question-summary' }, v.questions.map((q) => h('li', { class: 'data-text' }, q.text)))];
      }),
      region(ctl, () => {
        const v = voteOf(vote.id);
        return [v.status, v.certified_by, isAwaitingTrustees(v), v.shares_posted || [], v.shares_needed ?? null,
          v.is_secret && v.status === 'draft' ? (store.state.ceremony === undefined ? 'loading' : store.state.ceremony?.status ?? 'none') : null,
          store.state.ceremony?.threshold ?? null];
      }, () => controls(voteOf(vote.id))),
      region(prog, () => [voteOf(vote.id).status, store.progress.get(vote.id) || null, voteOf(vote.id).group_counts || null],
        () => progressTable(voteOf(vote.id))),
      region(hand, () => [voteOf(vote.id).status, voteOf(vote.id).group_modes], () => handCounts(voteOf(vote.id))),
      region(late, () => [voteOf(vote.id).status, voteOf(vote.id).late_ballots || 0], () => lateLine(voteOf(vote.id))),
      region(res, () => [voteOf(vote.id).status, voteOf(vote.id).result || null], () => resultBox(voteOf(vote.id))),
    ];
    return { el, updates };
  }

  function updateCards(force) {
    for (const vote of store.state.votes) {
      if (!cards.has(vote.id)) {
        const card = makeCard(vote);
        cards.set(vote.id, card);
        loadGroupCounts(vote).catch(() => {});
      }
    }
    for (const [id, card] of cards) {
      if (!voteOf(id)) {
        card.el.remove();
        cards.delete(id);
        continue;
      }
      for (const fn of card.updates) fn(force);
    }
    placeCards();
    emptyNote.hidden = cards.size > 0;
    showCreate();
    settleFocus();
  }

  /** Running votes first, then drafts, …; the newest first within each. Moves only what moved
   * (moving a card that holds focus would take the focus away). */
  function placeCards() {
    const wanted = [...store.state.votes]
      .sort((a, b) => (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9) || b.id - a.id)
      .map((v) => cards.get(v.id)?.el).filter(Boolean);
    const shown = [...cardsBox.children];
    if (wanted.length === shown.length && wanted.every((el, i) => el === shown[i])) return;
    wanted.forEach((el, i) => {
      if (cardsBox.children[i] !== el) cardsBox.insertBefore(el, cardsBox.children[i] || null);
    });
  }

  // While a vote runs, the create form waits behind 新建表决 (it pushed the progress down).
  let createFormEl = null;
  let createToggle = null;
  let isCreateWanted = false;
  function showCreate() {
    const isRunning = store.state.votes.some((v) => v.status === 'open');
    const collapsed = isRunning && !isCreateWanted;
    createFormEl.hidden = collapsed;
    createToggle.hidden = !isRunning;
    createToggle.setAttribute('aria-expanded', String(!collapsed));
    createToggle.textContent = collapsed ? t('votes.new') : t('votes.new_hide');
  }

  let emptyNote;
  function build() {
    cards.clear();
    cardsBox = h('div', { class: 'vote-cards', id: 'vote-cards' });
    emptyNote = h('p', { class: 'muted' }, t('votes.none'));
    ({ form: createFormEl, regions: createRegions } = createVoteForm({ store, live }));
    createToggle = h('button', { type: 'button', class: 'new-vote', id: 'vote-create-toggle', 'aria-controls': 'vote-create',
      on: {
        click: () => {
          isCreateWanted = createFormEl.hidden;
          showCreate();
          if (!createFormEl.hidden) document.getElementById('vote-item')?.focus();
        },
      } }, t('votes.new'));
    clear(root, h('h2', {}, t('staff.nav.votes')),
      h('div', { class: 'votes-layout' },
        h('section', { 'aria-labelledby': 'votes-list-h', class: 'votes-list' }, h('h3', { id: 'votes-list-h' }, t('votes.list')), emptyNote, cardsBox),
        h('div', { class: 'votes-create' }, h('div', { class: 'actions new-vote-bar' }, createToggle), createFormEl, trusteesBox)));
  }

  store.subscribe((change) => {
    if (change.kind === 'hello' && !change.resumed && built) {
      for (const vote of store.state.votes) loadGroupCounts(vote).catch(() => {});
    }
  });

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      build();
      built = true;
    }
    for (const fn of createRegions) fn(force);
    updateTrustees(force);
    updateCards(force);
  };
}
