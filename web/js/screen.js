// 大屏: the venue projector. The current item huge, the live picture (when staff set one), 实到
// against 应到 with the quorum, an open vote's progress, and the latest published result as a large
// chart. Nothing to click.

import { onLanguage } from './chrome.js';
import { clear, h, region } from './dom.js';
import { t, term } from './i18n.js';
import { observe } from './observer.js';
import { progressBlock } from './parts.js';
import { questionResult, rulesOf } from './results.js';
import { streamPlayer } from './stream.js';
import { currentItem, quorum } from './state.js';
import { isAwaitingTrustees } from './trustees.js';

const $ = (id) => document.getElementById(id);

async function main() {
  const connection = await observe($('refused'));
  if (!connection) {
    $('loading').hidden = true;
    return;
  }
  const { store } = connection;

  const parts = [
    region($('screen-head'), () => [store.state.congress.name, store.state.congress.term?.label], () => {
      document.title = `${store.state.congress.name} · ${t('screen.title')}`;
      const label = store.state.congress.term?.label; // 第N届第M次, as the staff and delegate pages show it
      return [h('h1', { class: 'screen-name data-text' }, store.state.congress.name),
        label ? h('p', { class: 'screen-term data-text', id: 'screen-term' }, label) : null];
    }),
    // No placeholder here: without a stream the projector simply shows the meeting's figures.
    region($('stream'), () => store.state.congress.stream, () => {
      const player = streamPlayer(store.state.congress.stream, { reloadBySelf: true });
      $('stream').hidden = !player;
      return player;
    }),
    region($('current'), () => [currentItem(store.state)], () => {
      const item = currentItem(store.state);
      return [h('p', { class: 'screen-label' }, t('agenda.current')),
        h('p', { class: ['screen-item', item ? 'data-text' : null], id: 'screen-item' }, item ? item.title : t('agenda.none')),
        item?.kind ? h('p', { class: 'screen-kind' }, term('agenda_kind', item.kind)) : null];
    }),
    region($('figures'), () => [store.state.attendance.eligible, store.state.attendance.present, store.state.congress.rules], () => {
      const q = quorum(store.state);
      return [
        h('div', { class: 'screen-figure' }, h('span', { class: 'label' }, t('attendance.eligible')), h('span', { class: 'value' }, String(q.eligible))),
        h('div', { class: 'screen-figure' }, h('span', { class: 'label' }, t('attendance.present')), h('span', { class: 'value', id: 'screen-present' }, String(q.present))),
        h('div', { class: ['screen-quorum', q.met ? 'ok' : 'warn'] },
          h('span', { class: 'label' }, t('attendance.quorum')),
          h('span', { class: 'value' }, t(q.met ? 'screen.quorum_met' : 'screen.quorum_not_met')),
          h('span', { class: 'detail' }, `${q.fraction} · ${q.required}`)),
      ];
    }),
    region($('vote'), () => [store.state.votes.map((v) => [v.id, v.status, v.title, v.result ? v.result.questions.length : 0, isAwaitingTrustees(v)]),
      [...store.progress.values()]], () => {
      const open = store.state.votes.filter((v) => v.status === 'open');
      if (open.length) {
        return open.map((v) => h('section', { class: 'screen-open' },
          h('p', { class: 'screen-label live-dot' }, t('vote.open')),
          h('h2', { class: 'data-text' }, v.title),
          progressBlock(store.progress.get(v.id))));
      }
      const latest = store.state.votes.filter((v) => v.status === 'published' && v.result).at(-1);
      const waiting = store.state.votes.filter(isAwaitingTrustees).at(-1);
      if (waiting && (!latest || waiting.id > latest.id)) { // a secret vote closed after the last result shown
        return h('section', { class: 'screen-waiting' },
          h('p', { class: 'screen-label' }, t('vote.closed_label')),
          h('h2', { class: 'data-text' }, waiting.title),
          h('p', { class: 'screen-wait-words' }, t('vote.awaiting_trustees')));
      }
      if (!latest) return null;
      return h('section', { class: 'screen-result' },
        h('p', { class: 'screen-label' }, t('result.title')),
        h('h2', { class: 'data-text' }, latest.title),
        // One question: every group's bar. Several (分项表决): the totals, so that all fit the screen.
        latest.result.questions.map((q) => questionResult(q, { headingLevel: 'h3', showGroups: latest.result.questions.length === 1,
          rule: rulesOf(latest)[q.question_id] ?? null, voidRound: Boolean(latest.result.is_void_round) })));
    }),
  ];

  function update(force = false) {
    if (!store.state) return;
    $('app').setAttribute('aria-busy', 'false');
    $('loading').hidden = true;
    for (const part of parts) part(force);
  }
  store.subscribe(() => update());
  onLanguage(() => update(true));
}

clear($('loading'), t('common.loading'));
main();
