// Staff: the stream's health, from the server's `stream_health` messages (congress/streaming/health.py,
// every ~2 s while an HLS stream is set): 直播中 / 未直播 / 中断, the newest segment's age, the HLS
// edge latency, how many observers watch, and a warning banner when the stream stalls. The setup
// view's delay field gets the suggested server hold (= the edge latency; docs/streaming.md).

import { h } from './dom.js';
import { t } from './i18n.js';

const STATE_CLASS = { live: 'ok', stalled: 'bad', not_live: 'warn', unchecked: '' };

function seconds(value) {
  return Math.round(value ?? 0);
}

/** The figures as short phrases (each its own element, so a phone wraps them between). */
function figures(health) {
  if (health.state === 'unchecked') return [h('span', { class: 'health-reason' }, t(`health.reason.${health.reason}`))];
  return [
    h('span', { class: 'health-age' }, health.segment_age === null || health.segment_age === undefined
      ? t('health.no_segment') : t('health.segment_age', { n: seconds(health.segment_age) })),
    h('span', { class: 'health-latency' }, health.edge_latency === null || health.edge_latency === undefined
      ? t('health.latency_unknown') : t('health.edge_latency', { n: health.edge_latency.toFixed(1) })),
    health.ended ? h('span', { class: 'health-ended' }, t('health.ended')) : null,
    health.error && !health.reachable ? h('span', { class: 'health-error' }, t('health.error', { error: health.error })) : null,
  ];
}

function stateLabel(health) {
  return h('strong', { class: ['health-state', `health-${health.state}`] }, t(`health.state.${health.state}`));
}

/** The pill in the staff console's status line (every view), or null without an HLS stream. */
export function streamHealthPill(health) {
  if (!health) return null;
  return h('span', { class: ['pill', 'stream-health-pill', STATE_CLASS[health.state]], dataset: { state: health.state } },
    t('health.label'), stateLabel(health), health.state === 'live'
      ? ` · ${t('health.segment_age', { n: seconds(health.segment_age) })}` : '',
    ` · ${t('health.observers', { n: health.observers })}`);
}

/** The warning above every view while the stream is stalled, or null. */
export function stallBanner(health) {
  if (!health || !health.stalled) return null;
  return h('p', { class: 'notice bad stream-stall-banner', role: 'alert' },
    t('health.stall_banner', { n: seconds(health.segment_age) }));
}

/** The 直播状态 card of the setup view: every figure, or what it waits for. */
export function streamHealthCard(health, stream) {
  const body = [];
  if (!stream || stream.kind !== 'hls') {
    body.push(h('p', { class: 'muted' }, t(stream?.kind === 'embed' ? 'health.embed' : 'health.no_hls')));
  } else if (!health) {
    body.push(h('p', { class: 'muted' }, t('health.checking')));
  } else {
    body.push(h('p', { class: 'health-line' }, stateLabel(health)),
      h('ul', { class: 'health-figures' }, figures(health).filter(Boolean).map((f) => h('li', {}, f)),
        h('li', { class: 'health-observers' }, t('health.observers', { n: health.observers }))));
  }
  return h('section', { class: 'card stream-health', 'aria-labelledby': 'health-h', dataset: { state: health?.state || 'none' } },
    h('h3', { id: 'health-h' }, t('health.title')), body); // the stall banner is above every view (staff.js)
}

/** Beside the delay field: 建议服务器保留 N 秒 (the measured edge latency), when there is one. */
export function holdSuggestion(health, stream) {
  if (!stream || stream.kind !== 'hls' || !health || health.suggested_hold === null || health.suggested_hold === undefined) return '';
  return t('health.suggest_hold', { n: health.suggested_hold });
}
