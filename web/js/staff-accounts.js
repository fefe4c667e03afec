// Staff: 账号 — the sign-ins of staff and departments. Reset a password (the new one is shown once,
// here, and never again), deactivate and reactivate an account, end all of its sign-ins (its open
// pages close at once with the reason). Read with the staff-only op `list_accounts`, again on
// `account.*` events. Delegates have no account: their access codes are re-issued in 名册.

import { askFirst } from './confirm.js';
import { clear, data, h, region } from './dom.js';
import { t, tx } from './i18n.js';
import { onEvents } from './state.js';

export function mountAccounts(root, { store, live }) {
  // shown: {login, password} — the password of the last reset, until staff dismiss it
  const ui = { list: null, error: null, status: null, shown: null, stale: true, busy: null };
  const table = h('div');
  const notice = h('div');
  let built = false;

  async function load() {
    ui.stale = false;
    try {
      ui.list = await live.command('list_accounts');
      ui.error = null;
    } catch (error) {
      ui.error = error.message;
    }
    tableRegion();
  }

  function loadIfShown() {
    if (root.hidden) ui.stale = true;
    else load();
  }

  async function act(account, op) {
    const confirmLabel = t(`accounts.${op}`);
    const asked = await askFirst({
      title: tx('accounts.ask_title', { action: confirmLabel, login: data(account.login) }),
      body: () => [h('p', {}, t(`accounts.ask_${op}`))],
      confirmLabel,
      id: `accounts-confirm-${op}`,
    });
    if (!asked) return;
    ui.busy = account.login;
    ui.status = null;
    tableRegion();
    try {
      const result = await live.command(op, { login: account.login });
      if (op === 'reset_account_password') ui.shown = { login: account.login, password: result.password };
      ui.status = ['ok', tx(`accounts.done_${op}`, { login: data(account.login), n: result.sessions_ended ?? 0 })];
    } catch (error) {
      ui.status = ['bad', t('common.error', { message: error.message })];
    } finally {
      ui.busy = null;
    }
    noticeRegion(true);
    await load();
  }

  function row(account, me) {
    const isMe = account.id === me;
    const buttons = [['reset_account_password', true], ['revoke_account_sessions', account.live_sessions > 0],
      [account.is_active ? 'deactivate_account' : 'activate_account', true]];
    return h('tr', { dataset: { login: account.login } },
      h('td', { class: 'data-text' }, account.login, isMe ? h('span', { class: 'tag' }, t('accounts.me')) : null),
      h('td', { class: 'data-text' }, account.display_name),
      h('td', {}, account.kind === 'staff' ? t('accounts.kind_staff')
        : [t('accounts.kind_department'), account.department ? [' · ', data(account.department)] : null]),
      h('td', {}, h('span', { class: ['pill', account.is_active ? 'ok' : 'warn'] },
        t(account.is_active ? 'accounts.active' : 'accounts.inactive'))),
      h('td', { class: 'num' }, String(account.live_sessions)),
      h('td', {}, h('div', { class: 'actions' }, buttons.map(([op, enabled]) => h('button', {
        type: 'button', class: op === 'deactivate_account' ? 'danger' : null, disabled: !enabled || ui.busy === account.login,
        dataset: { op }, on: { click: () => act(account, op) },
      }, t(`accounts.${op}`))))));
  }

  const tableRegion = region(table, () => [ui.list, ui.error, ui.busy], () => {
    if (ui.error) return h('p', { class: 'notice bad', role: 'alert' }, ui.error);
    if (!ui.list) return h('p', { class: 'muted' }, t('common.loading'));
    return h('div', { class: 'table-wrap' }, h('table', { class: 'compact', id: 'accounts-table' },
      h('caption', {}, t('accounts.caption')),
      h('thead', {}, h('tr', {}, ['login', 'name', 'kind', 'state', 'sessions', 'actions'].map((k) =>
        h('th', { scope: 'col', class: k === 'sessions' ? 'num' : null }, t(`accounts.col_${k}`))))),
      h('tbody', {}, ui.list.accounts.map((a) => row(a, ui.list.me)))));
  });

  const noticeRegion = region(notice, () => [ui.status, ui.shown], () => [
    ui.status ? h('p', { class: ['notice', ui.status[0]], role: 'status', id: 'accounts-status' }, ui.status[1]) : null,
    ui.shown ? h('div', { class: 'notice warn', id: 'accounts-password' },
      h('p', {}, tx('accounts.password_once', { login: data(ui.shown.login) })),
      h('p', {}, h('code', { class: 'data-text', id: 'accounts-new-password' }, ui.shown.password)),
      h('button', { type: 'button', on: { click: () => { ui.shown = null; noticeRegion(); } } }, t('accounts.password_noted')))
      : null,
  ]);

  onEvents('account', () => loadIfShown());

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      clear(root, h('h2', {}, t('staff.nav.accounts')), h('p', { class: 'hint' }, t('accounts.intro')), notice, table);
      built = true;
    }
    noticeRegion(force);
    if (!root.hidden && ui.stale) load();
    tableRegion(force);
  };
}
