// The delegate's page (phone first): stream, current item, 应到/实到, a big 签到 button, the ballot
// for an open vote, a group leader's hand-count form, and published results.

import { go, me as fetchMe } from './api.js';
import { ballotDeps, ballotPanel, keptDeps, keptReceipt } from './ballot.js';
import { mountHeader, onLanguage } from './chrome.js';
import { mountDocuments } from './documents.js';
import { clear, data, formatTime, h, region } from './dom.js';
import { handCountForm } from './handcount.js';
import { delegateType, t, tx } from './i18n.js';
import { attendanceCard, currentItemCard } from './parts.js';
import { countFilingFields } from './proposals-common.js';
import { mountDelegateProposals } from './proposals-delegate.js';
import { voteResult } from './results.js';
import { mountGroupRoom } from './room.js';
import { checkInWindow, connect, groupName, isHandCounted } from './state.js';
import { streamPlayer } from './stream.js';
import { isAwaitingTrustees, keepCeremony } from './trustees.js';

const $ = (id) => document.getElementById(id);
keepCeremony(); // the trustee link: is this delegate a trustee, and does the ceremony wait for them

async function main() {
  const me = await fetchMe().catch(() => ({ role: 'observer' }));
  if (me.role !== 'delegate') {
    go('/sign-in');
    return;
  }
  const { store, live } = connect();
  let focusAfter = null;
  const checkIn = { sending: false, error: null };

  let shownName = null;
  const renderHeader = mountHeader($('top'), {
    title: () => (store.state?.congress.name ? data(store.state.congress.name) : t('delegate.title')),
    subtitle: () => (store.state?.congress.term?.label ? data(store.state.congress.term.label) : null), // 第N届第M次
    user: { name: me.name, csrf: me.csrf_token },
  });

  function refresh(focusId) {
    focusAfter = focusId || null;
    update();
  }

  const parts = [
    mountDocuments($('slot-documents'), { store }), // documents.js: the reading list and reader
    mountGroupRoom($('slot-room'), { store, live }), // room.js: the group's room, 发言, 审议意见
    region($('stream'), () => store.state?.congress.stream, () => {
      const player = streamPlayer(store.state.congress.stream);
      $('stream').hidden = !player;
      return player;
    }),
    region($('me'), () => [store.state.me, store.state.attendance.groups.length], () => {
      const you = store.state.me;
      return h('p', { class: 'me-line' },
        h('strong', { class: 'data-text' }, you.name), ' ',
        tx('delegate.group', { group: data(groupName(store.state, you.group_id)), type: delegateType(you.delegate_type) }),
        you.is_group_leader ? h('span', { class: 'tag' }, t('delegate.leader')) : null);
    }),
    region($('current'), () => [store.state.agenda, store.state.congress.current_agenda_item_id],
      () => currentItemCard(store.state)),
    region($('checkin'), () => [store.state.me, store.state.congress.check_in, checkIn, checkInWindow(store.state)],
      () => checkInCard()),
    region($('votes'), () => [openVotes().map((v) => ballotDeps(store.state, v)), store.isConnected],
      () => openVotes().map((v) => ballotPanel(store.state, v, live, refresh, store.isConnected))),
    region($('handcount'), () => handCountVotes().map((v) => [v.id, v.status, v.group_counts?.[store.state.me.group_id] || null]),
      () => handCountVotes().map(handCountCard)),
    region($('attendance'), () => [store.state.attendance, store.state.congress.rules],
      () => attendanceCard(store.state)),
    region($('results'), () => store.state.votes.filter((v) => v.status !== 'open').map((v) => [v.id, v.status, v.result ? true : false, v.cancel_reason, isAwaitingTrustees(v), keptDeps(v)]),
      () => resultsList()),
    // A delegate named trustee (监票人) is shown the way to the trustee page.
    region($('trustee-link'), () => [store.state.ceremony?.my_index ?? null, store.state.ceremony?.status ?? null], () => {
      const ceremony = store.state.ceremony;
      if (!ceremony || ceremony.my_index === null || ceremony.my_index === undefined) return null;
      return h('section', { class: 'card trustee-link', 'aria-labelledby': 'trustee-link-h' },
        h('h2', { id: 'trustee-link-h', class: 'card-label' }, t('trustee.title')),
        h('p', {}, t(ceremony.status === 'collecting' ? 'delegate.trustee_todo' : 'delegate.trustee_named', { n: ceremony.my_index })),
        h('a', { href: '/trustee', class: 'button primary', id: 'trustee-page-link' }, t('delegate.trustee_open')));
    }),
    mountDelegateProposals($('slot-proposals'), store, live, { notice: $('cosign-notice') }),
  ];
  countFilingFields($('slot-proposals')); // 案名, 案由, 建议: a count and the limit as people type

  function openVotes() {
    return store.state.votes.filter((v) => v.status === 'open');
  }

  function handCountVotes() {
    const you = store.state.me;
    if (!you.is_group_leader) return [];
    return openVotes().filter((v) => isHandCounted(v, you.group_id));
  }

  function handCountCard(vote) {
    const you = store.state.me;
    const group = groupName(store.state, you.group_id);
    // What the group reported (who, the scrutineer, each figure) is shown by the form itself.
    return h('section', { class: 'card', 'aria-labelledby': `hc-${vote.id}-h` },
      h('h3', { id: `hc-${vote.id}-h` }, tx('handcount.title', { group: data(group) })),
      h('p', { class: 'vote-title-small data-text' }, vote.title),
      h('p', { class: 'hint' }, t('handcount.intro')),
      handCountForm({ vote, groups: [{ group_id: you.group_id, name: group }], live }));
  }

  function checkInCard() {
    const you = store.state.me;
    const windowState = checkInWindow(store.state);
    const { opens_at: opens, closes_at: closes } = store.state.congress.check_in || {};
    const body = [];
    if (you.is_checked_in) {
      body.push(h('p', { class: 'checked-in', role: 'status', id: 'checkin-done', tabindex: '-1' },
        h('span', { class: 'check', 'aria-hidden': 'true' }, '✓'), t('checkin.done')));
    } else if (windowState === 'open') {
      body.push(h('button', {
        type: 'button', class: 'primary huge', id: 'checkin-button', disabled: checkIn.sending,
        on: {
          click: async () => {
            checkIn.sending = true;
            checkIn.error = null;
            update();
            try {
              await live.command('check_in');
              store.state.me.is_checked_in = true;
              checkIn.sending = false;
              refresh('checkin-done');
            } catch (error) {
              checkIn.sending = false;
              if (error.code === 'already_checked_in') store.state.me.is_checked_in = true;
              else checkIn.error = error.message;
              refresh('checkin-button');
            }
          },
        },
      }, checkIn.sending ? t('common.sending') : t('checkin.button')));
    } else {
      body.push(h('p', { class: 'notice warn' }, t(windowState === 'closed' ? 'checkin.closed' : 'checkin.not_open')));
    }
    if (checkIn.error) body.push(h('p', { class: 'notice bad', role: 'alert' }, checkIn.error));
    if ((opens || closes) && !you.is_checked_in) {
      body.push(h('p', { class: 'hint' }, t('checkin.window', { opens: formatTime(opens, true) || '—', closes: formatTime(closes, true) || '—' })));
    }
    if (!you.is_voting) body.push(h('p', { class: 'hint' }, t('checkin.non_voting', { type: delegateType(you.delegate_type) })));
    return h('section', { class: ['card', 'checkin', you.is_checked_in ? 'is-done' : null], 'aria-labelledby': 'checkin-h' },
      h('h2', { id: 'checkin-h', class: 'card-label' }, t('checkin.title')), body);
  }

  function resultsList() {
    const votes = store.state.votes.filter((v) => v.status !== 'open').slice().reverse();
    const items = votes.map((v) => {
      const receipt = keptReceipt(v, live, refresh);
      if (v.status === 'published' && v.result) {
        return h('article', { class: 'card result-card' }, h('h3', { class: 'data-text' }, v.title), voteResult(v, v.result, { showGroups: true }), receipt);
      }
      if (v.status === 'closed') {
        return h('article', { class: 'card' }, h('h3', { class: 'data-text' }, v.title),
          h('p', { class: 'notice' }, t(isAwaitingTrustees(v) ? 'vote.awaiting_trustees' : 'vote.closed_wait')), receipt);
      }
      if (v.status === 'cancelled') return h('article', { class: 'card' }, h('h3', { class: 'data-text' }, v.title), h('p', { class: 'notice' }, tx('vote.cancelled', { reason: data(v.cancel_reason || '') })));
      return null;
    }).filter(Boolean);
    return [h('h2', { class: 'section-title' }, t('result.published')), items.length ? items : h('p', { class: 'muted' }, t('result.none'))];
  }

  function update(force = false) {
    if (!store.state) return;
    if (store.state.congress.name !== shownName) {
      shownName = store.state.congress.name;
      renderHeader();
    }
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
    update();
  });
  onLanguage(() => update(true));
  setInterval(() => update(), 15000); // the check-in window opens and closes with the clock
}

clear($('loading'), t('common.loading'));
main();
