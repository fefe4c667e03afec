// 我的提案 on the delegate's page (phone first): draft and edit, invite co-signers from the
// delegate directory, answer co-sign invitations, submit, and rate a reply. The list lives in the
// snapshot's `proposals` and is kept by proposal.* and cosign.* events.

import { choice, data, field, h, region } from './dom.js';
import { t, term, tx } from './i18n.js';
import { categoryTag, errorLine, filingKey, filingLine, numberText, RATINGS, replyBlock, statusTag } from './proposals-common.js';
import { onEvents } from './state.js';

function section(state) {
  if (!state.proposals || !Array.isArray(state.proposals.mine)) state.proposals = { mine: [], cosign_requests: [] };
  state.proposals.cosign_requests ||= [];
  return state.proposals;
}

function upsert(list, data) {
  const existing = list.find((p) => p.id === data.id);
  if (existing) Object.assign(existing, data);
  else list.push({ ...data });
}

onEvents('proposal', (state, event) => {
  const p = event.payload;
  const mine = section(state);
  if (['proposal.drafted', 'proposal.edited', 'proposal.carried_in'].includes(event.type)) {
    if (state.me && p.proposer_id === state.me.delegate_id) upsert(mine.mine, p);
    const request = mine.cosign_requests.find((x) => x.id === p.id);
    if (request) Object.assign(request, { status: p.status, status_label: p.status_label });
    return;
  }
  if (event.type === 'proposal.attachment_added') { // the proposer's own draft
    const own = mine.mine.find((x) => x.id === p.proposal_id);
    const { proposal_id: _id, ...attachment } = p;
    if (own && !(own.attachments || []).some((a) => a.id === attachment.id)) own.attachments = [...(own.attachments || []), attachment];
    return;
  }
  if (typeof p.id !== 'number' || !p.title) return; // the told / pre-review notes: the public event follows
  // A case's public events carry its board entry; `decision`, `reason` (the decision's) and `round`
  // are the event's own, not the proposal's (its `reason` is the 案由)
  const { decision, reason, round, ...rest } = p;
  const own = mine.mine.find((x) => x.id === p.id);
  if (own) Object.assign(own, rest);
  const request = mine.cosign_requests.find((x) => x.id === p.id);
  if (request) { // what the request lists (a co-signer's list has no case fields)
    for (const key of Object.keys(rest)) if (key in request) request[key] = rest[key];
  }
});

onEvents('cosign', (state, event) => {
  // cosign.request_changed: the request as the snapshot lists it (cosign.invited is the notice of it)
  if (event.type !== 'cosign.request_changed') return;
  const p = event.payload;
  const mine = section(state);
  const existing = mine.cosign_requests.find((x) => x.id === p.id);
  // a declined draft leaves the list; a published case stays, with the answer (the snapshot lists it so)
  const unpublished = p.status === 'draft' || p.status === 'pre_review';
  if (p.my_answer === 'declined' && unpublished) mine.cosign_requests = mine.cosign_requests.filter((x) => x.id !== p.id);
  else if (existing) Object.assign(existing, p);
  else mine.cosign_requests.push({ ...p });
});

function isPending(request) {
  return request.my_answer === 'invited' && request.status === 'draft';
}

/**
 * Fills <section data-slot="proposals"> and, when given, `notice`: the top-of-page line that says how
 * many co-sign invitations wait for an answer, linking to them. Returns update(force) for the
 * page's render loop.
 */
export function mountDelegateProposals(container, store, live, { notice = null } = {}) {
  const ui = {
    version: 0,
    form: null, // {id|null, title, reason, suggestion}
    formError: null,
    busy: false,
    errors: {}, // proposal id -> message
    search: {}, // proposal id -> {query, results, error}
    rating: {}, // proposal id -> {rating, comment}
    notice: null,
    // proposal id -> what the invitee reads before answering (cosign_invitation): {text} | {loading} | {error}
    invitations: {},
  };
  container.classList.add('proposals-mine');

  // A co-signer reads what they sign: the proposal's text as it stands, from the server, which
  // gives it to the invitee only (the invitation event carries the title alone).
  async function readInvitation(id) {
    ui.invitations[id] = { loading: true };
    try {
      ui.invitations[id] = { text: await live.command('cosign_invitation', { proposal_id: id }) };
    } catch (error) {
      ui.invitations[id] = { error: error.message };
    }
    bump();
  }

  function bump(focusId) {
    ui.version += 1;
    update();
    if (focusId) document.getElementById(focusId)?.focus();
  }

  async function run(key, op, args, after) {
    ui.busy = true;
    ui.notice = null;
    ui.declined = null;
    if (key === 'form') ui.formError = null;
    else delete ui.errors[key];
    bump();
    try {
      const result = await live.command(op, args);
      ui.busy = false;
      after?.(result);
      bump();
      return result;
    } catch (error) {
      ui.busy = false;
      if (key === 'form') ui.formError = error.message;
      else ui.errors[key] = error.message;
      bump();
      return null;
    }
  }

  function draftForm() {
    const f = ui.form;
    const bind = (name) => ({ input: (e) => { f[name] = e.target.value; } });
    const title = h('input', { type: 'text', id: 'pf-title', value: f.title, required: true, on: bind('title') });
    const reason = h('textarea', { id: 'pf-reason', rows: '4', required: true, on: bind('reason') });
    reason.value = f.reason;
    const suggestion = h('textarea', { id: 'pf-suggestion', rows: '4', required: true, on: bind('suggestion') });
    suggestion.value = f.suggestion;
    const form = h('form', { class: 'p-form', id: 'proposal-form' },
      h('h3', {}, t(f.id ? 'proposals.edit_title' : 'proposals.new_title')),
      field(t('proposals.field_title'), title),
      field(t('proposals.field_reason'), reason),
      field(t('proposals.field_suggestion'), suggestion),
      errorLine(ui.formError),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', id: 'pf-save', disabled: ui.busy }, t('proposals.save_draft')),
        h('button', { type: 'button', id: 'pf-cancel', on: { click: () => { ui.form = null; ui.formError = null; bump('p-new'); } } },
          t('common.cancel'))));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const args = { title: f.title, reason: f.reason, suggestion: f.suggestion };
      const op = f.id ? 'edit_proposal' : 'draft_proposal';
      if (f.id) args.proposal_id = f.id;
      run('form', op, args, (result) => {
        upsert(section(store.state).mine, result);
        ui.form = null;
        ui.notice = t('proposals.saved');
      });
    });
    return form;
  }

  function inviteBlock(p) {
    const s = (ui.search[p.id] ||= { query: '', results: null, error: null });
    const input = h('input', { id: `pi-q-${p.id}`, type: 'search', value: s.query, autocomplete: 'off',
      on: { input: (e) => { s.query = e.target.value; } } });
    const form = h('form', { class: 'p-search' },
      field(t('proposals.invite_search'), input),
      h('button', { type: 'submit', id: `pi-go-${p.id}` }, t('proposals.search')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!s.query.trim()) return;
      try {
        const result = await live.command('delegate_directory', { query: s.query.trim() });
        s.results = result.delegates;
        s.error = null;
      } catch (error) {
        s.error = error.message;
      }
      bump(`pi-q-${p.id}`);
    });
    const invited = new Set((p.invitations || []).filter((i) => i.status !== 'declined').map((i) => String(i.employee_id)));
    const results = s.results === null ? null
      : s.results.length === 0 ? h('p', { class: 'muted' }, t('proposals.no_match'))
        : h('ul', { class: 'p-people' }, s.results.map((d) => h('li', {},
          h('span', { class: 'data-text' }, `${d.name}（${d.employee_id} · ${d.group}）`),
          invited.has(String(d.employee_id))
            ? h('span', { class: 'tag' }, t('proposals.invited'))
            : h('button', { type: 'button', class: 'small', on: {
              click: () => run(p.id, 'invite_cosigners', { proposal_id: p.id, employee_ids: [d.employee_id] },
                (result) => upsert(section(store.state).mine, result)),
            } }, tx('proposals.invite', { name: data(d.name) })))));
    return h('div', { class: 'p-invite' }, form, errorLine(s.error), results);
  }

  function invitations(p) {
    const list = p.invitations || [];
    if (!list.length) return h('p', { class: 'hint' }, t('proposals.no_cosigners'));
    return h('ul', { class: 'p-people', 'aria-label': t('proposals.cosigners') }, list.map((i) => h('li', {},
      h('span', { class: 'data-text' }, i.name), h('span', { class: ['tag', `cosign-${i.status}`] }, t(`proposals.cosign.${i.status}`)))));
  }

  function ratingForm(p) {
    const r = (ui.rating[p.id] ||= { rating: '', comment: '' });
    const radios = RATINGS.map((label) => { // the value is the server's word, the label the reader's
      const c = choice('radio', `rate-${p.id}`, label, term('rating', label), { checked: r.rating === label });
      c.querySelector('input').addEventListener('change', () => { r.rating = label; bump(); });
      return c;
    });
    const comment = h('textarea', { id: `pr-comment-${p.id}`, rows: '3', on: { input: (e) => { r.comment = e.target.value; } } });
    comment.value = r.comment;
    const needsComment = r.rating === '不满意';
    const form = h('form', { class: 'p-rate' },
      h('fieldset', {}, h('legend', {}, t('proposals.rate_title')), h('div', { class: 'choices' }, radios)),
      field(t(needsComment ? 'proposals.rate_comment_required' : 'proposals.rate_comment'), comment),
      h('button', { type: 'submit', class: 'primary', disabled: ui.busy || !r.rating }, t('proposals.rate_submit')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (needsComment && !r.comment.trim()) {
        ui.errors[p.id] = t('proposals.rate_need_comment');
        bump(comment.id);
        return;
      }
      run(p.id, 'rate_reply', { proposal_id: p.id, rating: r.rating, comment: r.comment.trim() || null });
    });
    return form;
  }

  function proposalCard(p) {
    const isDraft = p.status === 'draft';
    return h('article', { class: 'p-item', dataset: { proposalId: p.id } },
      h('h3', { class: 'p-title' }, numberText(p) ? h('span', { class: 'p-number' }, numberText(p), ' ') : null, data(p.title)),
      h('p', { class: 'p-meta' }, statusTag(p), categoryTag(p.category),
        p.lead_department ? h('span', { class: 'hint' }, tx('proposals.department', { name: data(p.lead_department) })) : null),
      isDraft ? [
        h('h4', {}, t('proposals.cosigners')), invitations(p), inviteBlock(p),
        h('div', { class: 'actions' },
          h('button', { type: 'button', id: `pe-${p.id}`, on: { click: () => {
            ui.form = { id: p.id, title: p.title, reason: p.reason || '', suggestion: p.suggestion || '' };
            bump('pf-title');
          } } }, t('proposals.edit')),
          h('button', { type: 'button', class: 'primary', id: `ps-${p.id}`, disabled: ui.busy, on: {
            click: () => run(p.id, 'submit_proposal', { proposal_id: p.id },
              (result) => upsert(section(store.state).mine, result)),
          } }, t('proposals.submit'))),
      ] : null,
      errorLine(ui.errors[p.id]),
      replyBlock(p.reply),
      p.status === 'replied' && p.reply ? ratingForm(p) : null,
      p.status === 'following_up' ? h('p', { class: 'hint p-following-up' }, t('proposals.following_up')) : null,
      p.rating && p.status !== 'replied' ? h('p', { class: 'hint' }, t('proposals.rated', { rating: term('rating', p.rating) })) : null);
  }

  function invitationText(p) {
    const read = ui.invitations[p.id];
    if (!read || read.loading) return h('p', { class: 'muted', role: 'status' }, t('proposals.reading'));
    if (read.error) {
      return h('div', {}, errorLine(read.error),
        h('button', { type: 'button', class: 'small', on: { click: () => readInvitation(p.id) } }, t('proposals.read_again')));
    }
    return h('dl', { class: 'p-invitation-text' },
      h('dt', {}, t('proposals.field_reason')), h('dd', { class: 'p-text data-text' }, read.text.reason),
      h('dt', {}, t('proposals.field_suggestion')), h('dd', { class: 'p-text data-text' }, read.text.suggestion));
  }

  function requestCard(p) {
    const pending = isPending(p);
    const hasRead = Boolean(ui.invitations[p.id]?.text);
    return h('li', { class: 'p-request', id: `cosign-${p.id}` },
      h('p', {}, h('strong', { class: 'data-text' }, p.title), ' ', h('span', { class: 'hint' }, tx('proposals.from', { name: data(p.proposer || '') }))),
      pending ? invitationText(p) : null,
      pending
        ? h('div', { class: 'actions' },
          // 同意 only once the text is there to read.
          h('button', { type: 'button', class: 'primary', disabled: ui.busy || !hasRead, on: { click: () => run(`c${p.id}`, 'answer_cosign',
            { proposal_id: p.id, accept: true }, () => { p.my_answer = 'accepted'; }) } }, t('proposals.accept')),
          h('button', { type: 'button', disabled: ui.busy, on: { click: () => run(`c${p.id}`, 'answer_cosign',
            { proposal_id: p.id, accept: false }, () => { p.my_answer = 'declined'; ui.declined = p.title; }) } }, t('proposals.decline')))
        : h('span', { class: 'tag' }, t(`proposals.cosign.${p.my_answer}`)),
      errorLine(ui.errors[`c${p.id}`]));
  }

  function noticeLine() {
    const pending = section(store.state).cosign_requests.filter(isPending);
    if (!pending.length) return null;
    return h('section', { class: 'notice cosign-notice', role: 'status', 'aria-live': 'polite' },
      h('p', {}, t('proposals.pending_notice', { n: pending.length })),
      h('a', { href: '#cosign-h', class: 'button small' }, t('proposals.pending_link')));
  }

  function build() {
    const mine = section(store.state);
    const requests = mine.cosign_requests;
    return [
      h('h2', { class: 'card-label', id: 'proposals-h' }, t('proposals.mine')),
      filingLine(store.state),
      ui.notice ? h('p', { class: 'notice ok', role: 'status' }, ui.notice) : null,
      ui.form ? draftForm()
        : h('button', { type: 'button', class: 'primary', id: 'p-new', on: { click: () => {
          ui.form = { id: null, title: '', reason: '', suggestion: '' };
          ui.notice = null;
          bump('pf-title');
        } } }, t('proposals.new')),
      mine.mine.length
        ? h('div', { class: 'p-list' }, mine.mine.slice().reverse().map(proposalCard))
        : h('p', { class: 'muted' }, t('proposals.none')),
      // a declined draft leaves the list (as on reload); the page says so where it was
      ui.declined ? h('p', { class: 'notice ok', role: 'status', id: 'cosign-declined' },
        tx('proposals.cosign.declined_note', { title: data(ui.declined) })) : null,
      requests.length ? [h('h3', { id: 'cosign-h' }, t('proposals.requests')),
        h('ul', { class: 'p-requests', 'aria-labelledby': 'cosign-h' }, requests.map(requestCard))] : null,
    ];
  }

  const updateList = region(container, () => [store.state?.proposals ?? null, store.state?.me?.delegate_id, ui.version,
    filingKey(store.state)], build);
  const updateNotice = notice
    ? region(notice, () => section(store.state).cosign_requests.filter(isPending).map((p) => p.id), noticeLine)
    : () => {};
  function update(force = false) {
    if (!store.state) return;
    container.hidden = false;
    for (const p of section(store.state).cosign_requests) {
      if (isPending(p) && !ui.invitations[p.id]) readInvitation(p.id);
    }
    updateList(force);
    updateNotice(force); // an answer given here changes it too, with no event to this page
  }
  return update;
}
