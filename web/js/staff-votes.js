// Staff: votes — create (questions, secret, hand-counted groups), open / close / certify /
// publish / cancel / repeat, live progress by group, which hand-counted groups have reported,
// hand-count entry for any group, and the stored result in words.

import { choice, clear, field, h, region } from './dom.js';
import { handCountForm } from './handcount.js';
import { t } from './i18n.js';
import { progressBlock } from './parts.js';
import { voteResult } from './results.js';
import { mountTrusteesCard } from './staff-trustees.js';
import { isAwaitingTrustees } from './trustees.js';

let questionCounter = 0;

function questionEditor(kind, onRemove) {
  questionCounter += 1;
  const id = `q${questionCounter}`;
  const text = h('input', { type: 'text', id: `${id}-text`, required: true, class: 'q-text' });
  const extra = [];
  if (kind === 'election') {
    extra.push(field(t('votes.candidates'), h('textarea', { id: `${id}-candidates`, rows: 3, required: true, class: 'q-candidates' })));
    extra.push(field(t('votes.seats'), h('input', { type: 'number', id: `${id}-seats`, min: 1, value: 1, class: 'num-input q-seats' })));
  } else if (kind === 'rating') {
    extra.push(field(t('votes.scale'), h('textarea', { id: `${id}-scale`, rows: 3, class: 'q-scale', value: '称职\n基本称职\n不称职' })));
  }
  const kindLabel = { yes_no: t('votes.add_yes_no'), election: t('votes.add_election'), rating: t('votes.add_rating') }[kind];
  const editor = h('fieldset', { class: 'question-editor', dataset: { kind } },
    h('legend', {}, kindLabel.replace(/^[^：:]*[：:]\s*/, '')),
    field(t('votes.question_text'), text), extra,
    h('button', { type: 'button', class: 'small danger', on: { click: () => { editor.remove(); onRemove(); } } }, t('votes.remove_question')));
  return editor;
}

function readQuestion(editor) {
  const kind = editor.dataset.kind;
  const q = { kind, text: editor.querySelector('.q-text').value.trim() };
  const lines = (sel) => editor.querySelector(sel).value.split('\n').map((x) => x.trim()).filter(Boolean);
  if (kind === 'election') {
    q.candidates = lines('.q-candidates');
    q.seats = Number(editor.querySelector('.q-seats').value || 1);
  } else if (kind === 'rating') {
    q.scale = lines('.q-scale');
  }
  return q;
}

export function mountVotes(root, { store, live }) {
  let built = false;
  const trusteesBox = h('div', { class: 'trustees-box' }); // 监票人与密钥 (staff-trustees.js), kept across rebuilds
  const updateTrustees = mountTrusteesCard(trusteesBox, { store, live });
  let cardsBox;
  const cards = new Map(); // vote id -> {el, updates}
  let createRegions = [];

  function statusEl() {
    return h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  }

  async function run(status, op, args) {
    status.className = 'form-status';
    status.textContent = t('common.sending');
    try {
      const result = await live.command(op, args);
      status.className = 'form-status ok';
      status.textContent = t('common.saved');
      return result;
    } catch (error) {
      status.className = 'form-status bad';
      status.textContent = t('common.error', { message: error.message });
      if (error.code === 'no_trustee_key') status.append(' ', t('votes.see_trustees'));
      return null;
    }
  }

  // ---- creating a vote -----------------------------------------------------------------
  function createForm() {
    const itemSelect = h('select', { id: 'vote-item', required: true });
    const itemBox = h('div');
    const title = h('input', { type: 'text', id: 'vote-title', maxlength: 300 });
    const questions = h('div', { class: 'question-editors' });
    const secret = h('input', { type: 'checkbox', id: 'vote-secret' });
    const closesAfter = h('input', { type: 'number', id: 'vote-closes-after', min: 10, class: 'num-input' });
    const groupsBox = h('div');
    const status = statusEl();
    const addButtons = ['yes_no', 'election', 'rating'].map((kind) => h('button', {
      type: 'button', class: 'small', id: `add-q-${kind}`,
      on: { click: () => { const ed = questionEditor(kind, () => {}); questions.append(ed); ed.querySelector('input')?.focus(); } },
    }, t(`votes.add_${kind}`)));
    questions.append(questionEditor('yes_no', () => {}));
    itemBox.append(field(t('votes.item'), itemSelect));
    const form = h('form', { class: 'card', id: 'vote-create', 'aria-labelledby': 'vote-create-h' },
      h('h3', { id: 'vote-create-h' }, t('votes.create')),
      itemBox,
      field(t('votes.vote_title'), title),
      h('fieldset', {}, h('legend', {}, t('votes.questions')), questions, h('div', { class: 'actions' }, addButtons)),
      h('label', { class: 'choice', for: secret.id }, secret, h('span', {}, t('votes.is_secret'))),
      groupsBox,
      field(t('votes.closes_after'), closesAfter),
      h('button', { type: 'submit', class: 'primary' }, t('votes.create')), status);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const hand = [...groupsBox.querySelectorAll('input:checked')].map((x) => Number(x.value));
      const args = {
        agenda_item_id: Number(itemSelect.value), title: title.value.trim(),
        questions: [...questions.querySelectorAll('.question-editor')].map(readQuestion),
        is_secret: secret.checked, hand_count_groups: hand,
      };
      if (closesAfter.value) args.closes_after_seconds = Number(closesAfter.value);
      const result = await run(status, 'create_vote', args);
      if (result) {
        status.textContent = t('votes.created');
        title.value = '';
      }
    });
    createRegions = [
      region(itemSelect, () => store.state.agenda.map((i) => [i.id, i.title]), () => {
        const keep = itemSelect.value;
        const current = store.state.congress.current_agenda_item_id;
        return store.state.agenda.map((i) => h('option', { value: i.id, selected: keep ? String(i.id) === keep : i.id === current }, `${i.kind} · ${i.title}`));
      }),
      region(groupsBox, () => store.state.attendance.groups.map((g) => [g.group_id, g.name]), () => h('fieldset', { class: 'choices inline' },
        h('legend', {}, t('votes.hand_count_groups')),
        store.state.attendance.groups.map((g) => choice('checkbox', 'hand-groups', g.group_id, g.name, { id: `hand-group-${g.group_id}` })))),
    ];
    return form;
  }

  // ---- one vote's card -----------------------------------------------------------------
  function voteOf(id) {
    return store.state.votes.find((v) => v.id === id);
  }

  function controls(vote) {
    const status = statusEl();
    const buttons = [];
    const go = (label, op, args = {}, cls = 'primary') => h('button', {
      type: 'button', class: cls, id: `vote-${vote.id}-${op}`,
      on: { click: () => run(status, op, { vote_id: vote.id, ...args }) },
    }, label);
    const inlineForm = (label, inputLabel, op, key, cls = 'primary') => {
      const input = h('input', { type: 'text', id: `vote-${vote.id}-${op}-input`, required: true, autocomplete: 'off' });
      const form = h('form', { class: 'inline-form' }, h('label', { for: input.id }, inputLabel), input,
        h('button', { type: 'submit', class: cls, id: `vote-${vote.id}-${op}` }, label));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        run(status, op, { vote_id: vote.id, [key]: input.value.trim() });
      });
      return form;
    };
    if (vote.status === 'draft') buttons.push(go(t('votes.open'), 'open_vote'));
    if (vote.status === 'open') buttons.push(go(t('votes.close'), 'close_vote'));
    if (isAwaitingTrustees(vote)) buttons.push(awaitingLine(vote));
    else if (vote.status === 'closed' && !vote.certified_by) buttons.push(inlineForm(t('votes.certify'), t('votes.scrutineer'), 'certify_vote', 'scrutineer'));
    if (vote.status === 'closed' && vote.certified_by) buttons.push(go(t('votes.publish'), 'publish_vote'));
    if (['closed', 'published', 'cancelled'].includes(vote.status)) buttons.push(go(t('votes.repeat'), 'repeat_vote', {}, ''));
    const cancel = ['draft', 'open'].includes(vote.status)
      ? h('details', { class: 'cancel-box' }, h('summary', {}, t('votes.cancel')),
        inlineForm(t('votes.cancel'), t('votes.cancel_reason'), 'cancel_vote', 'reason', 'danger'))
      : null;
    return h('div', {}, keyNote(vote), h('div', { class: 'actions' }, buttons), cancel, status);
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
          h('th', { scope: 'row' }, g.name),
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
      count ? `（${count.entered_by ?? ''} · ${count.scrutineer}）` : '');
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
    const res = h('div');
    const el = h('article', { class: 'card vote-card', id: `vote-card-${vote.id}`, dataset: { voteId: vote.id } }, head, ctl, prog, hand, res);
    const updates = [
      region(head, () => { const v = voteOf(vote.id); return [v.title, v.status, v.round, v.is_secret, v.certified_by, v.cancel_reason, v.agenda_item_id, isAwaitingTrustees(v)]; }, () => {
        const v = voteOf(vote.id);
        const item = store.state.agenda.find((i) => i.id === v.agenda_item_id);
        return [h('h3', {}, v.title, h('span', { class: ['tag', `status-${v.status}`] }, t(`votes.status.${v.status}`))),
          h('p', { class: 'hint' }, [item ? item.title : '', v.is_secret ? t('vote.secret') : t('vote.named'),
            v.round > 1 ? t('vote.round', { n: v.round }) : null,
            v.certified_by ? t('votes.certified', { name: v.certified_by })
              : (isAwaitingTrustees(v) ? t('votes.awaiting_short') : (v.status === 'closed' ? t('votes.not_certified') : null)),
          ].filter(Boolean).join(' · ')),
          v.cancel_reason ? h('p', { class: 'notice warn' }, t('vote.cancelled', { reason: v.cancel_reason })) : null,
          h('ol', { class: 'question-summary' }, v.questions.map((q) => h('li', {}, q.text)))];
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
        cardsBox.prepend(card.el); // the newest on top
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
    emptyNote.hidden = cards.size > 0;
  }

  let emptyNote;
  function build() {
    cards.clear();
    cardsBox = h('div', { class: 'vote-cards', id: 'vote-cards' });
    emptyNote = h('p', { class: 'muted' }, t('votes.none'));
    clear(root, h('h2', {}, t('staff.nav.votes')),
      h('div', { class: 'votes-layout' },
        h('section', { 'aria-labelledby': 'votes-list-h', class: 'votes-list' }, h('h3', { id: 'votes-list-h' }, t('votes.list')), emptyNote, cardsBox),
        h('div', { class: 'votes-create' }, trusteesBox, createForm())));
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
