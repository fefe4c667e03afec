// Staff: 通知 — who hears what (rules), where (e-mail addresses and 企业微信/钉钉/飞书 group robots per
// department, for staff, for the delegates' group) and how the outbox is doing (pending / sent /
// failed, the last failures). Read with `notices_view`, changed with `set_notices`; a webhook's
// address comes back masked from the moment it is saved and is never shown again in full.

import { choice, clear, data, field, h, region } from './dom.js';
import { t, tx } from './i18n.js';
import { onEvents } from './state.js';

const KINDS = ['email', 'wecom', 'dingtalk', 'feishu'];
const AUDIENCES = ['department', 'staff', 'delegates'];

export function mountNotices(root, { store, live }) {
  const ui = { view: null, departments: [], error: null, status: null, stale: true };
  const body = h('div');
  const notice = h('div');
  let built = false;

  async function load() {
    ui.stale = false;
    try {
      const [view, departments] = await Promise.all([live.command('notices_view'), live.command('list_departments')]);
      ui.view = view;
      ui.departments = departments.departments;
      ui.error = null;
    } catch (error) {
      ui.error = error.message;
    }
    bodyRegion();
  }

  function loadIfShown() {
    if (root.hidden) ui.stale = true;
    else load();
  }

  async function send(args) {
    ui.status = ['', t('common.sending')];
    noticeRegion();
    try {
      await live.command('set_notices', args);
      ui.status = ['ok', t('common.saved')];
    } catch (error) {
      ui.status = ['bad', t('common.error', { message: error.message })];
    }
    noticeRegion();
    await load();
  }

  function rulesForm() {
    // The rules come from the server's table (congress.domain.notices.RULES): a rule added there shows
    // here with its Chinese words until it has a translation
    const label = (rule) => (t(`notices.rule.${rule.key}`) === `notices.rule.${rule.key}` ? rule.words
      : t(`notices.rule.${rule.key}`));
    const boxes = ui.view.rules.map((rule) => h('div', {},
      choice('checkbox', rule.key, 'on', label(rule), { checked: rule.on })));
    const form = h('form', { id: 'notices-rules' }, h('fieldset', {},
      h('legend', {}, t('notices.rules')), boxes), h('button', { type: 'submit' }, t('common.save')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const rules = Object.fromEntries(ui.view.rules.map(({ key }) => [key, form.elements[key].checked]));
      send({ rules });
    });
    return form;
  }

  function channelRow(c) {
    return h('tr', { dataset: { channel: c.id } },
      h('td', {}, c.department ? data(c.department) : t(`notices.audience.${c.audience}`)),
      h('td', {}, t(`notices.kind.${c.kind}`)),
      h('td', { class: 'data-text address' }, c.address, c.signed ? h('span', { class: 'tag' }, t('notices.signed')) : null),
      h('td', {}, h('button', { type: 'button', class: 'danger', on: { click: () => send({ remove_channel: c.id }) } },
        t('notices.remove'))));
  }

  function addForm() {
    const audience = h('select', { name: 'audience', id: 'notices-audience' },
      AUDIENCES.map((a) => h('option', { value: a }, t(`notices.audience.${a}`))));
    const department = h('select', { name: 'department', id: 'notices-department' },
      ui.departments.map((d) => h('option', { value: d.name, class: 'data-text' }, d.name)));
    const kind = h('select', { name: 'kind', id: 'notices-kind' }, KINDS.map((k) => h('option', { value: k }, t(`notices.kind.${k}`))));
    const address = h('input', { type: 'text', name: 'address', id: 'notices-address', autocomplete: 'off', required: true });
    const secret = h('input', { name: 'secret', id: 'notices-secret', type: 'password', autocomplete: 'off' });
    const form = h('form', { id: 'notices-add' }, h('fieldset', {}, h('legend', {}, t('notices.add')),
      field(t('notices.audience'), audience), field(t('notices.department'), department),
      field(t('notices.kind'), kind), field(t('notices.address'), address), field(t('notices.secret'), secret)),
    h('button', { type: 'submit' }, t('notices.add')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const spec = { audience: audience.value, kind: kind.value, address: address.value.trim() };
      if (audience.value === 'department') spec.department = department.value;
      if (secret.value.trim()) spec.secret = secret.value.trim();
      address.value = ''; // the key is not kept on the page
      secret.value = '';
      send({ add_channel: spec });
    });
    return form;
  }

  function outbox() {
    const o = ui.view.outbox;
    return h('div', { id: 'notices-outbox' },
      h('h3', {}, t('notices.outbox')),
      h('p', {}, ['pending', 'sent', 'failed', 'cancelled'].map((s) =>
        h('span', { class: ['pill', s === 'failed' && o[s] ? 'bad' : null], dataset: { status: s } },
          tx('notices.count', { what: t(`notices.status.${s}`), n: String(o[s]) })))),
      ui.view.failures.length
        ? h('ul', { id: 'notices-failures', class: 'notice bad' }, ui.view.failures.map((f) =>
          h('li', {}, h('span', { class: 'data-text' }, f.words))))
        : h('p', { class: 'muted' }, t('notices.no_failures')));
  }

  const bodyRegion = region(body, () => [ui.view, ui.error], () => {
    if (ui.error) return h('p', { class: 'notice bad', role: 'alert' }, ui.error);
    if (!ui.view) return h('p', { class: 'muted' }, t('common.loading'));
    return [outbox(), rulesForm(),
      h('h3', {}, t('notices.channels')),
      ui.view.channels.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'compact', id: 'notices-channels' },
          h('thead', {}, h('tr', {}, ['who', 'kind', 'address', 'actions'].map((k) => h('th', { scope: 'col' }, t(`notices.col_${k}`))))),
          h('tbody', {}, ui.view.channels.map(channelRow))))
        : h('p', { class: 'muted' }, t('notices.no_channels')),
      addForm(),
      h('p', { class: 'hint' }, tx('notices.emails', { n: String(ui.view.delegates_with_email) }))];
  });

  const noticeRegion = region(notice, () => [ui.status], () =>
    ui.status ? h('p', { class: ['form-status', ui.status[0]], role: 'status', id: 'notices-status' }, ui.status[1]) : null);

  onEvents('notice', () => loadIfShown());
  onEvents('notices', () => loadIfShown());

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      clear(root, h('h2', {}, t('staff.nav.notices')), h('p', { class: 'hint' }, t('notices.intro')), notice, body);
      built = true;
    }
    noticeRegion(force);
    if (!root.hidden && ui.stale) load();
    bodyRegion(force);
  };
}
