// What staff are asked before a step that cannot be taken back (staff-votes.js): the words and
// the live figures of 开始表决, 截止并计票, 公布结果 and 重新表决, for the in-page dialog (confirm.js).
// Each `*Question(vote, store)` returns { title, body, confirmLabel, option? }; `body()` reads the
// store each time it is called, so the dialog's figures follow the live progress while it is open.

import { h } from './dom.js';
import { t } from './i18n.js';
import { questionOutcome } from './results.js';
import { currentItem, quorum } from './state.js';

function voteNow(store, vote) {
  return store.state.votes.find((v) => v.id === vote.id) || vote;
}

/** The vote moved on while the dialog was open (closed by its timer, opened elsewhere): say so. */
function movedOn(store, vote, expected) {
  const now = voteNow(store, vote);
  return expected.includes(now.status) ? null
    : h('p', { class: 'notice bad' }, t('votes.ask.moved_on', { status: t(`votes.status.${now.status}`) }));
}

function groupNames(store, vote) {
  return store.state.attendance.groups
    .filter((g) => (vote.group_modes || {})[String(g.group_id)] === 'hand_count').map((g) => g.name);
}

export function openQuestion(vote, store) {
  const item = store.state.agenda.find((i) => i.id === vote.agenda_item_id);
  const current = currentItem(store.state);
  const needsAgenda = item && (!current || current.id !== item.id);
  return {
    title: t('votes.ask.open_title', { title: vote.title }),
    confirmLabel: t('votes.ask.open_ok'),
    option: needsAgenda ? { label: t('votes.ask.move_agenda', { item: item.title }), checked: true } : null,
    body: () => {
      const q = quorum(store.state);
      const hand = groupNames(store, vote);
      return [
        movedOn(store, vote, ['draft']),
        h('p', {}, t('votes.ask.open_what')),
        h('p', { class: 'confirm-figures' }, t('votes.ask.open_figures', { present: q.present, eligible: q.eligible })),
        h('p', { class: ['quorum', q.met ? 'ok' : 'warn'] },
          t(q.met ? 'attendance.quorum_met' : 'attendance.quorum_not_met', { fraction: q.fraction, required: q.required })),
        h('ul', { class: 'confirm-facts' },
          h('li', {}, vote.is_secret ? t('vote.secret') : t('vote.named')),
          hand.length ? h('li', {}, t('votes.ask.hand_groups', { names: hand.join('、') })) : null,
          vote.closes_after_seconds ? h('li', {}, t('votes.ask.closes_after', { n: vote.closes_after_seconds })) : null,
          needsAgenda ? h('li', {}, t('votes.ask.agenda_now', { item: current ? current.title : t('agenda.none') })) : null),
      ];
    },
  };
}

export function closeQuestion(vote, store) {
  return {
    title: t('votes.ask.close_title', { title: vote.title }),
    confirmLabel: t('votes.ask.close_ok'),
    body: () => {
      const now = voteNow(store, vote);
      const progress = store.progress.get(vote.id);
      const online = progress ? progress.groups.filter((g) => g.mode !== 'hand_count') : [];
      const hasHand = progress && online.length < progress.groups.length;
      const missing = progress ? progress.groups.filter((g) => g.mode === 'hand_count' && !g.reported
        && !now.group_counts?.[g.group_id]).map((g) => g.name) : [];
      const figures = progress
        ? t(hasHand ? 'votes.ask.close_figures_online' : 'votes.ask.close_figures', {
          cast: progress.cast, present: online.reduce((sum, g) => sum + g.present, 0),
        })
        : t('votes.ask.close_figures_unknown');
      return [
        movedOn(store, vote, ['open']),
        h('p', { class: 'notice warn' }, t('votes.ask.close_what')),
        h('p', { class: 'confirm-figures', id: `vote-${vote.id}-close-figures` }, figures),
        missing.length ? h('p', { class: 'notice bad' }, t('votes.ask.close_missing', { names: missing.join('、') })) : null,
        h('p', {}, t(vote.is_secret ? 'votes.ask.close_after_secret' : 'votes.ask.close_after')),
      ];
    },
  };
}

export function publishQuestion(vote, store) {
  return {
    title: t('votes.ask.publish_title', { title: vote.title }),
    confirmLabel: t('votes.ask.publish_ok'),
    body: () => {
      const now = voteNow(store, vote);
      return [
        movedOn(store, vote, ['closed']),
        h('p', {}, t('votes.ask.publish_who')),
        h('ul', { class: 'confirm-facts confirm-outcomes' }, (now.result?.questions || []).map((q) =>
          h('li', {}, h('strong', { class: 'data-text' }, q.text), h('br'), questionOutcome(q, { voidRound: Boolean(now.result?.is_void_round) })))),
        h('p', {}, t('votes.ask.publish_also', { name: now.certified_by || '' })),
        h('p', { class: 'notice warn' }, t('votes.ask.publish_final')),
      ];
    },
  };
}

/** The round repeat_vote will create: one more than the highest round of the same agenda item. */
export function nextRound(vote, store) {
  const rounds = store.state.votes.filter((v) => v.agenda_item_id === vote.agenda_item_id).map((v) => v.round || 1);
  return Math.max(vote.round || 1, ...rounds) + 1;
}

export function repeatQuestion(vote, store) {
  const round = nextRound(vote, store);
  return {
    title: t('votes.ask.repeat_title', { title: vote.title }),
    confirmLabel: t('votes.ask.repeat_ok', { n: round }),
    body: () => [
      h('p', { class: 'confirm-figures' }, t('votes.ask.repeat_what', { n: round, m: vote.round || 1 })),
      h('p', {}, t('votes.ask.repeat_keeps', { m: vote.round || 1 })),
      h('p', {}, t('votes.ask.repeat_draft')),
    ],
  };
}
