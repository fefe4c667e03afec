// 审议意见 (docs/protocol.md, "Review opinions"): the group leader's draft — agreement,
// suggestions, objections, quoted messages of the room — saved and submitted to the presidium,
// read-only after that; the group's members see it. Staff: 分组审议, every group side by side
// for one agenda item, with the handling, the printable page and the XLSX export.

import { counter } from './counter.js';
import { clear, data, field, formatTime, h, region } from './dom.js';
import { t, term, tx } from './i18n.js';
import { currentItem, onEvents } from './state.js';

export const HANDLINGS = ['已采纳', '部分采纳', '已作解释说明', '转有关部门研究办理', '暂不采纳'];
const FIELDS = ['agreement', 'suggestions', 'objections'];
// Each part's limit, as the server checks it (congress/actions/opinions.py): shown as the leader
// types, never cut (a long paste stays whole to be shortened).
export const MAX_OPINION_CHARS = 10000;

onEvents('opinion', (state, event) => {
  const p = event.payload;
  state.opinions = state.opinions || [];
  const index = state.opinions.findIndex((o) => o.id === p.id);
  if (index >= 0) state.opinions[index] = { ...p };
  else state.opinions.push({ ...p });
});

function roomOf(state, groupId) {
  return (state.room || []).find((r) => r.group_id === groupId) || null;
}

function opinionFor(state, groupId, itemId) {
  return (state.opinions || []).find((o) => o.group_id === groupId && o.agenda_item_id === itemId) || null;
}

function quoteList(opinion) {
  if (!opinion.quotes?.length) return null;
  return h('div', { class: 'opinion-quotes' }, h('h5', {}, t('opinion.quotes')),
    h('ul', {}, opinion.quotes.map((q) => h('li', {},
      q.is_hidden ? h('span', { class: 'muted' }, t('room.hidden_stub'))
        : [h('strong', { class: 'data-text' }, q.author_name), '：', h('span', { class: 'quote-text data-text' }, q.text)]))));
}

/** An opinion as text, read-only: three parts, quotes, status, handling. */
export function opinionView(opinion) {
  return h('div', { class: 'opinion-view' },
    FIELDS.map((f) => h('div', { class: 'opinion-part' }, h('h5', {}, t(`opinion.${f}`)),
      opinion[f] ? h('p', { class: 'opinion-text' }, opinion[f]) : h('p', { class: 'muted' }, t('common.none')))),
    quoteList(opinion),
    h('p', { class: 'hint' }, opinion.status === 'submitted'
      ? tx('opinion.submitted_at', { at: formatTime(opinion.submitted_at, true), by: data(opinion.drafted_by) })
      : tx('opinion.draft_at', { at: formatTime(opinion.updated_at, true), by: data(opinion.drafted_by) })),
    opinion.handling ? h('p', { class: 'notice ok' }, t('opinion.handling_line', { handling: term('handling', opinion.handling) }),
      opinion.handling_note ? ` — ${opinion.handling_note}` : '') : null);
}

/** Delegate page: the 审议意见 panel of the group (editable by the leader until submitted). */
export function mountOpinionPanel(root, { store, live }) {
  const ui = { itemId: null, draft: null, draftKey: null, status: null, statusKind: '' };
  const me = () => store.state.me;

  function itemId() {
    const agenda = store.state.agenda;
    if (ui.itemId && agenda.some((a) => a.id === ui.itemId)) return ui.itemId;
    return currentItem(store.state)?.id ?? agenda[0]?.id ?? null;
  }

  function opinion() {
    return opinionFor(store.state, me().group_id, itemId());
  }

  function draftFrom(o) {
    return {
      agreement: o?.agreement || '', suggestions: o?.suggestions || '', objections: o?.objections || '',
      quoted: new Set(o?.quoted_message_ids || []), dirty: false,
    };
  }

  function ensureDraft() {
    const o = opinion();
    const key = `${itemId()}`;
    if (!ui.draft || ui.draftKey !== key || (!ui.draft.dirty && o)) {
      ui.draft = draftFrom(o);
      ui.draftKey = key;
    }
    return ui.draft;
  }

  async function run(op, args) {
    ui.status = t('common.sending');
    ui.statusKind = '';
    panel(true);
    try {
      await live.command(op, args);
      ui.status = t(op === 'submit_opinion' ? 'opinion.submitted_ok' : 'opinion.saved_ok');
      ui.statusKind = 'ok';
      if (ui.draft) ui.draft.dirty = false;
      return true;
    } catch (error) {
      ui.status = t('common.error', { message: error.message });
      ui.statusKind = 'bad';
      return false;
    } finally {
      panel(true);
    }
  }

  function saveArgs() {
    const d = ensureDraft();
    return { agenda_item_id: itemId(), agreement: d.agreement, suggestions: d.suggestions, objections: d.objections,
      quoted_message_ids: [...d.quoted] };
  }

  function itemPicker() {
    const select = h('select', { id: 'opinion-item' }, store.state.agenda.map((a) =>
      h('option', { value: a.id, selected: a.id === itemId(), class: 'data-text' }, `${a.position ?? ''}. ${a.title}`)));
    select.addEventListener('change', () => {
      ui.itemId = Number(select.value);
      ui.status = null;
      panel(true);
    });
    return field(t('opinion.item'), select);
  }

  function editor() {
    const d = ensureDraft();
    const counts = [];
    const parts = FIELDS.map((f) => {
      const area = h('textarea', { id: `opinion-${f}`, rows: 4, value: d[f] });
      area.addEventListener('input', () => {
        d[f] = area.value;
        d.dirty = true;
      });
      const count = counter(area, MAX_OPINION_CHARS);
      counts.push({ f, area, count });
      const part = field(t(`opinion.${f}`), area);
      area.after(count.element);
      return part;
    });
    // Said, not cut: the first part over its limit is named and focused, nothing is sent.
    function refuseTooLong() {
      const over = counts.find((c) => c.count.isOver());
      if (!over) return false;
      ui.status = t('opinion.too_long', { part: t(`opinion.${over.f}`), refusal: over.count.refusal() });
      ui.statusKind = 'bad';
      panel(true);
      document.getElementById(over.area.id)?.focus();
      return true;
    }
    const messages = (roomOf(store.state, me().group_id)?.messages || []).filter((m) => !m.is_hidden);
    const quotes = h('fieldset', { class: 'opinion-pick' },
      h('legend', {}, t('opinion.pick_quotes')),
      messages.length ? h('ul', { class: 'pick-list' }, messages.map((m) => {
        const box = h('input', { type: 'checkbox', id: `quote-${m.id}`, value: m.id, checked: d.quoted.has(m.id) });
        box.addEventListener('change', () => {
          if (box.checked) d.quoted.add(m.id);
          else d.quoted.delete(m.id);
          d.dirty = true;
        });
        return h('li', {}, h('label', { class: 'choice', for: box.id }, box,
          h('span', {}, h('strong', { class: 'data-text' }, m.author_name), '：', h('span', { class: 'quote-text data-text' }, m.text))));
      })) : h('p', { class: 'muted' }, t('room.empty')));
    const form = h('form', { class: 'opinion-form' }, parts, quotes,
      h('div', { class: 'doc-actions' },
        h('button', { type: 'submit', id: 'opinion-save' }, t('opinion.save')),
        h('button', { type: 'button', class: 'primary', id: 'opinion-submit', on: {
          click: async () => {
            if (!ui.confirming && !refuseTooLong()) {
              ui.confirming = true;
              panel(true);
              document.getElementById('opinion-submit-confirm')?.focus();
            }
          },
        } }, t('opinion.submit'))),
      ui.confirming ? h('div', { class: 'notice warn', role: 'alertdialog', 'aria-labelledby': 'opinion-confirm-text' },
        h('p', { id: 'opinion-confirm-text' }, t('opinion.submit_confirm')),
        h('div', { class: 'doc-actions' },
          h('button', { type: 'button', class: 'primary', id: 'opinion-submit-confirm', on: {
            click: async () => {
              ui.confirming = false;
              if (refuseTooLong()) return;
              if (await run('save_opinion', saveArgs())) await run('submit_opinion', { agenda_item_id: itemId() });
            },
          } }, t('opinion.submit_yes')),
          h('button', { type: 'button', on: { click: () => { ui.confirming = false; panel(true); } } }, t('common.cancel')))) : null);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (refuseTooLong()) return;
      run('save_opinion', saveArgs());
    });
    return form;
  }

  const panel = region(root, () => {
    const o = opinion();
    const room = roomOf(store.state, me().group_id);
    return [itemId(), o?.status, o?.updated_at, o?.handling, me().is_group_leader, store.state.agenda.length,
      me().is_group_leader && o?.status !== 'submitted' ? (room?.messages || []).map((m) => [m.id, m.is_hidden]) : null];
  }, () => {
    const o = opinion();
    const isLeader = me().is_group_leader;
    const body = [h('h3', { id: 'opinion-h' }, t('opinion.title')), itemPicker()];
    if (o?.status === 'submitted') {
      body.push(h('p', { class: 'notice ok', id: 'opinion-submitted' }, t('opinion.is_submitted')), opinionView(o));
    } else if (isLeader) {
      body.push(o ? h('p', { class: 'hint' }, tx('opinion.draft_at', { at: formatTime(o.updated_at, true), by: data(o.drafted_by) })) : null, editor());
    } else if (o) {
      body.push(h('p', { class: 'hint' }, t('opinion.draft_note')), opinionView(o));
    } else {
      body.push(h('p', { class: 'muted' }, t('opinion.none')));
    }
    if (ui.status) body.push(h('p', { class: `form-status ${ui.statusKind}`, role: 'status' }, ui.status));
    return h('section', { class: 'opinion-panel', 'aria-labelledby': 'opinion-h' }, body);
  });

  return function update(force = false) {
    if (!store.state || !store.state.me) return;
    panel(force);
  };
}

// ---- staff --------------------------------------------------------------------------------------

/** Staff page: 分组审议 — every group's opinion on one agenda item, side by side. */
export function mountStaffOpinions(root, { store, live, congressId }) {
  const ui = { itemId: null, table: null, loading: false, error: null, asked: null };
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const grid = h('div');
  const head = h('div');
  let built = false;

  function itemId() {
    const agenda = store.state.agenda;
    if (ui.itemId && agenda.some((a) => a.id === ui.itemId)) return ui.itemId;
    return currentItem(store.state)?.id ?? agenda[0]?.id ?? null;
  }

  async function load() {
    const id = itemId();
    if (!id) return;
    ui.asked = id;
    try {
      const table = await live.command('opinions_for_item', { agenda_item_id: id });
      if (ui.asked === id) {
        ui.table = table;
        ui.error = null;
      }
    } catch (error) {
      ui.error = error.message;
    }
    gridRegion();
  }

  function say(kind, text) {
    status.className = `form-status ${kind}`;
    status.textContent = text;
  }

  function handlingForm(opinion) {
    const select = h('select', { id: `handling-${opinion.id}` },
      HANDLINGS.map((x) => h('option', { value: x, selected: x === opinion.handling }, term('handling', x))));
    const note = h('input', { type: 'text', id: `handling-note-${opinion.id}`, maxlength: 2000, value: opinion.handling_note || '' });
    const form = h('form', { class: 'handling-form' }, field(t('opinion.handling'), select), field(t('opinion.handling_note'), note),
      h('button', { type: 'submit', class: 'small primary' }, t('opinion.mark_handled')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      say('', t('common.sending'));
      try {
        await live.command('mark_opinion_handled', { opinion_id: opinion.id, handling: select.value, note: note.value });
        say('ok', t('common.saved'));
      } catch (error) {
        say('bad', t('common.error', { message: error.message }));
      }
    });
    return form;
  }

  function groupCard(row) {
    const o = row.opinion;
    return h('article', { class: ['card', 'opinion-card', o ? `is-${o.status}` : 'is-none'], dataset: { group: row.group_id } },
      h('h3', {}, data(row.group), ' ', h('span', { class: 'tag' },
        t(o ? (o.status === 'submitted' ? 'opinion.status_submitted' : 'opinion.status_draft') : 'opinion.status_none'))),
      o ? opinionView(o) : h('p', { class: 'muted' }, t('opinion.none')),
      o?.status === 'submitted' ? handlingForm(o) : null);
  }

  const headRegion = region(head, () => [store.state.agenda.map((a) => [a.id, a.title]), itemId()], () => {
    const select = h('select', { id: 'opinions-item' }, store.state.agenda.map((a) =>
      h('option', { value: a.id, selected: a.id === itemId(), class: 'data-text' }, `${a.position ?? ''}. ${a.title}`)));
    select.addEventListener('change', () => {
      ui.itemId = Number(select.value);
      ui.table = null;
      headRegion();
      load();
    });
    const id = itemId();
    const base = `/api/congresses/${encodeURIComponent(congressId)}/opinions/${id}`;
    return h('div', { class: 'row' }, field(t('opinion.item'), select),
      id ? h('p', { class: 'doc-actions' },
        h('a', { class: 'button', href: `${base}/print`, target: '_blank', rel: 'noopener' }, t('opinion.print')),
        h('a', { class: 'button', href: `${base}/export.xlsx`, download: '' }, t('opinion.export'))) : null);
  });

  const gridRegion = region(grid, () => [ui.table, ui.error], () => {
    if (ui.error) return h('p', { class: 'notice bad' }, ui.error);
    if (!ui.table) return h('p', { class: 'muted' }, t('common.loading'));
    const submitted = ui.table.groups.filter((g) => g.opinion?.status === 'submitted').length;
    return [h('p', { class: 'hint' }, t('opinion.summary', { submitted, total: ui.table.groups.length })),
      h('div', { class: 'opinion-grid', id: 'opinion-grid' }, ui.table.groups.map(groupCard))];
  });

  let lastOpinions = null;
  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      clear(root, h('h2', {}, t('staff.nav.opinions')), head, status, grid);
      built = true;
    }
    headRegion(force);
    const seen = JSON.stringify(store.state.opinions || []);
    if (seen !== lastOpinions || ui.asked !== itemId()) {
      lastOpinions = seen;
      load();
    }
    gridRegion(force);
  };
}
