// Staff: 监票人与密钥 — name the trustees (at least 3 delegates, and how many of them decrypt), follow
// their key ceremony round by round, see the public key's fingerprint, and start again after a
// failed ceremony. Mounted in the votes view (staff-votes.js). Staff see public keys only: the
// trustees make the key on their own devices (/trustee) and nothing here can decrypt a ballot.

import { field, h, region } from './dom.js';
import { t } from './i18n.js';
import {
  ceremonySummary, ceremonyTable, isAwaitingTrustees, keepCeremony, keyFingerprint, loadDecryption, statusTag,
} from './trustees.js';

const MIN_TRUSTEES = 3;
keepCeremony();

export function mountTrusteesCard(container, { store, live }) {
  const form = { status: null, statusClass: '', sending: false, open: false };
  const asked = new Set(); // closed secret votes whose decryption progress was read

  function parseIds(text) {
    return text.split(/[\s,，、;；]+/).map((x) => x.trim()).filter(Boolean);
  }

  async function name(ids, threshold) {
    form.sending = true;
    form.status = t('common.sending');
    form.statusClass = '';
    update();
    try {
      await live.command('name_trustees', { employee_ids: ids, threshold });
      form.status = t('trustees.named');
      form.statusClass = 'ok';
    } catch (error) {
      form.status = t('common.error', { message: error.message });
      form.statusClass = 'bad';
    } finally {
      form.sending = false;
      update();
    }
  }

  function nameForm(ceremony) {
    const ids = h('textarea', { id: 'trustee-ids', rows: 4, required: true, spellcheck: 'false', autocapitalize: 'characters' });
    const threshold = h('input', { type: 'number', id: 'trustee-threshold', min: 2, value: ceremony?.threshold ?? 2, required: true,
      class: 'num-input' });
    const submit = h('button', { type: 'submit', class: 'primary', disabled: form.sending, id: 'name-trustees' }, t('trustees.name'));
    const el = h('form', { class: 'trustee-form', id: 'trustee-form' },
      field(t('trustees.ids'), ids, t('trustees.ids_hint', { n: MIN_TRUSTEES })),
      field(t('trustees.threshold'), threshold, t('trustees.threshold_hint')),
      submit);
    el.addEventListener('submit', (e) => {
      e.preventDefault();
      const list = parseIds(ids.value);
      const needed = Number(threshold.value);
      if (list.length < MIN_TRUSTEES) {
        form.status = t('trustees.too_few', { n: MIN_TRUSTEES, given: list.length });
        form.statusClass = 'bad';
        update();
        document.getElementById('trustee-ids')?.focus();
        return;
      }
      name(list, needed);
    });
    return el;
  }

  function card() {
    const ceremony = store.state.ceremony;
    const heading = h('h3', { id: 'trustees-card-h' }, t('trustees.title'));
    const intro = h('p', { class: 'hint' }, t('trustees.staff_intro'));
    // "named: tell them" is news until the ceremony moves on; an error stays until the next try.
    const shown = form.status && (form.statusClass !== 'ok' || ceremony?.status === 'collecting');
    const status = shown
      ? h('p', { class: ['form-status', form.statusClass], role: 'status', id: 'trustees-status' }, form.status) : null;
    const section = (...body) => h('section', {
      class: 'card trustees-card', id: 'trustees-card', 'aria-labelledby': 'trustees-card-h',
    }, heading, body, status);
    if (ceremony === undefined) return section(intro, h('p', { class: 'muted' }, t('common.loading')));
    if (ceremony === null) {
      return section(intro, h('p', { class: 'notice warn', id: 'no-ceremony' }, t('trustees.none')), nameForm(null));
    }
    const rename = h('details', { class: 'trustee-rename' }, h('summary', {}, t('trustees.rename')), nameForm(ceremony));
    if (ceremony.status === 'ready') {
      // Ready: one line (status and fingerprint) during the session; the rest opens on demand.
      const details = h('details', { class: 'trustees-details', open: form.open },
        h('summary', {}, statusTag(ceremony), ' ', t('trustees.fingerprint'), ' ',
          h('code', { class: 'fingerprint-code' }, keyFingerprint(ceremony.public_key))),
        intro, ceremonySummary(ceremony), ceremonyTable(ceremony), rename);
      details.addEventListener('toggle', () => { form.open = details.open; });
      return section(details);
    }
    return section(intro, h('p', { class: 'tags' }, statusTag(ceremony)), ceremonySummary(ceremony), ceremonyTable(ceremony),
      ceremony.status === 'collecting'
        ? h('p', { class: 'hint' }, t('trustees.tell_them'), ' ', h('code', {}, `${location.origin}/trustee`)) : null,
      ceremony.status === 'failed'
        ? h('div', { class: 'actions' }, h('button', {
          type: 'button', class: 'primary', id: 'restart-ceremony', disabled: form.sending,
          on: { click: () => name(ceremony.trustees.map((x) => x.employee_id), ceremony.threshold) },
        }, t('trustees.restart')))
        : null,
      rename);
  }

  const render = region(container, () => [store.state.ceremony ?? (store.state.ceremony === null ? null : 'loading'),
    form.status, form.statusClass, form.sending], card);

  function readDecryptions() {
    for (const vote of store.state.votes) {
      if (isAwaitingTrustees(vote) && !asked.has(vote.id)) {
        asked.add(vote.id);
        loadDecryption(store, live, vote.id).catch(() => asked.delete(vote.id));
      }
    }
  }

  store.subscribe((change) => {
    if (change.kind === 'hello' && !change.resumed) asked.clear();
  });

  function update(force = false) {
    if (!store.state) return;
    render(force);
    readDecryptions();
  }
  return update;
}
