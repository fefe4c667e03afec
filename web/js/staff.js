// The union staff's desk (desktop / laptop): one page, one live connection, a view per task —
// setup, roster import, check-in desk, agenda, votes. The view in front follows location.hash.
// Views that later features add (proposals, documents, group rooms) register the same way:
// a <section data-view="name"> in staff.html and an entry in VIEWS.

import { congresses, go, me as fetchMe, param } from './api.js';
import { mountHeader, onLanguage } from './chrome.js';
import { clear, data, h, region } from './dom.js';
import { t } from './i18n.js';
import { connect, quorum } from './state.js';
import { mountProposals } from './proposals-staff.js';
import { mountAccounts } from './staff-accounts.js';
import { mountNotices } from './staff-notices.js';
import { mountAgenda } from './staff-agenda.js';
import { mountDesk } from './staff-desk.js';
import { mountRoster } from './staff-roster.js';
import { mountTerm } from './staff-term.js';
import { mountStaffRooms } from './staff-rooms.js';
import { mountSetup } from './staff-setup.js';
import { mountVotes } from './staff-votes.js';
import { mountStaffDocuments } from './documents.js';
import { mountStaffOpinions } from './opinions.js';
import { mountStaffSpeakers } from './speakers.js';
import { stallBanner, streamHealthPill } from './stream-health.js';

const $ = (id) => document.getElementById(id);
const VIEWS = [
  ['desk', mountDesk],
  ['votes', mountVotes],
  ['agenda', mountAgenda],
  ['proposals', mountProposals],
  ['documents', mountStaffDocuments], // documents.js
  ['opinions', mountStaffOpinions], // opinions.js: 分组审议
  ['rooms', mountStaffRooms], // staff-rooms.js: 分组讨论, read-only
  ['speakers', mountStaffSpeakers], // speakers.js: 发言
  ['roster', mountRoster],
  ['setup', mountSetup],
  ['accounts', mountAccounts], // staff-accounts.js: reset, deactivate, end sign-ins
  ['notices', mountNotices], // staff-notices.js: e-mail and group-robot notices, the outbox
  ['term', mountTerm], // staff-term.js: 本届 — sessions, statistics, carrying proposals over
];

function currentView() {
  const name = location.hash.replace(/^#/, '');
  return VIEWS.some(([key]) => key === name) ? name : VIEWS[0][0];
}

async function main() {
  const me = await fetchMe().catch(() => ({ role: 'observer' }));
  if (me.role !== 'staff') {
    go('/sign-in');
    return;
  }
  const list = await congresses();
  const given = param('congress');
  const congressId = given && /^\d+$/.test(given) ? Number(given) : list[0]?.id;
  if (!congressId) {
    $('loading').hidden = true;
    clear($('app'), h('p', { class: 'notice warn' }, t('staff.no_congress')));
    return;
  }
  const { store, live } = connect({ congressId });
  const ctx = { store, live, me, congressId };

  let shownName = null;
  const renderHeader = mountHeader($('top'), {
    title: () => (store.state?.congress.name ? data(store.state.congress.name) : t('staff.title')),
    subtitle: () => (store.state?.congress.term?.label ? data(store.state.congress.term.label)
      : (list.length > 1 ? null : t('staff.title'))),
    user: { name: me.name, csrf: me.csrf_token },
  });

  function congressPicker() {
    if (list.length < 2) return null;
    const select = h('select', { id: 'congress-picker', 'aria-label': t('staff.congress') },
      list.map((c) => h('option', { value: c.id, selected: c.id === congressId, class: 'data-text' }, c.name)));
    select.addEventListener('change', () => go(`/staff?congress=${select.value}${location.hash}`));
    return h('div', { class: 'picker' }, h('label', { for: select.id }, t('staff.congress')), select);
  }

  function renderNav() {
    const active = currentView();
    $('nav').setAttribute('aria-label', t('staff.nav'));
    clear($('nav'), congressPicker(), h('ul', {}, VIEWS.map(([key]) => h('li', {},
      h('a', { href: `#${key}`, 'aria-current': key === active ? 'page' : null }, t(`staff.nav.${key}`))))));
  }

  const updates = VIEWS.map(([key, mount]) => mount($(`view-${key}`), ctx));

  function showView() {
    const active = currentView();
    for (const [key] of VIEWS) $(`view-${key}`).hidden = key !== active;
    renderNav();
    update(); // a view that waited while hidden (proposals) reads now
  }

  function statusLine() {
    if (!store.state) return;
    const q = quorum(store.state);
    const p = store.presence;
    const delegates = p?.delegates_connected ? Object.values(p.delegates_connected).reduce((a, b) => a + b, 0) : 0;
    clear($('status-line'),
      h('span', { class: ['pill', q.met ? 'ok' : 'warn'] },
        `${t('attendance.present')} ${q.present} / ${t('attendance.eligible')} ${q.eligible} · `,
        t(q.met ? 'attendance.quorum_met' : 'attendance.quorum_not_met', { fraction: q.fraction, required: q.required })),
      p ? h('span', { class: 'pill' }, t('staff.presence', { observers: p.observers, delegates, staff: p.staff_connected ?? 0 })) : null,
      streamHealthPill(store.streamHealth));
  }

  // 直播已中断 N 秒 above every view, whichever one staff are in (stream-health.js)
  const streamAlert = h('div', { id: 'stream-alert' });
  $('status-line').before(streamAlert);
  const renderStreamAlert = region(streamAlert, () => [store.streamHealth?.stalled, Math.round(store.streamHealth?.segment_age ?? 0)],
    () => stallBanner(store.streamHealth));

  function update(force = false) {
    if (!store.state) return;
    if (store.state.congress.name !== shownName || force) {
      shownName = store.state.congress.name;
      renderHeader();
    }
    $('app').setAttribute('aria-busy', 'false');
    $('loading').hidden = true;
    statusLine();
    renderStreamAlert(force);
    for (const fn of updates) fn(force);
  }

  window.addEventListener('hashchange', showView);
  store.subscribe(() => update());
  onLanguage(() => {
    renderNav();
    update(true);
  });
  showView();
}

clear($('loading'), t('common.loading'));
main();
