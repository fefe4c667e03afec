// A small bar chart: one row per group, each an SVG bar whose full width is that group's 应到,
// split into the options' counts. The bars are SVG (crisp from a 360 px phone to a projector);
// the names and numbers beside them are HTML text, so they stay legible at any width, are
// translated with the page, and are read by screen readers — the SVG itself is decoration.

import { h, s } from './dom.js';

const KNOWN = { yes: 'c-yes', no: 'c-no', abstain: 'c-abstain' };

export function optionClass(key, index) {
  return KNOWN[key] || `c-${index % 6}`;
}

/**
 * legend: [{key, label, isData?}] in order; rows: [{label, total, counts: {key: n}, text?, detail?, isTotal?,
 * isData?}]; threshold: {value, label} drawn on total rows; caption: text. `isData`: the label is
 * people's words (a candidate, a group), shown as given in any language (class data-text).
 */
export function barChart({ caption, legend, rows, threshold, restLabel }) {
  const classes = Object.fromEntries(legend.map((o, i) => [o.key, optionClass(o.key, i)]));
  const legendList = h('ul', { class: 'legend' },
    legend.map((o) => h('li', {}, h('span', { class: ['swatch', classes[o.key]], 'aria-hidden': 'true' }), label(o))),
    restLabel ? h('li', {}, h('span', { class: 'swatch c-rest', 'aria-hidden': 'true' }), restLabel) : null,
    threshold ? h('li', {}, h('span', { class: 'swatch c-threshold', 'aria-hidden': 'true' }), threshold.label) : null);
  return h('figure', { class: 'chart' },
    caption ? h('figcaption', {}, caption) : null,
    legendList,
    h('div', { class: 'chart-rows' }, rows.map((row) => chartRow(row, legend, classes, threshold))));
}

function label(item) {
  return item.isData ? h('span', { class: 'data-text' }, item.label) : item.label;
}

function chartRow(row, legend, classes, threshold) {
  const total = Math.max(1, row.total || 0);
  const rects = [];
  let x = 0;
  for (const option of legend) {
    const value = Math.max(0, row.counts[option.key] || 0);
    if (value > 0) rects.push(s('rect', { x, y: 0, width: value, height: 10, class: classes[option.key] }));
    x += value;
  }
  if (x < total) rects.push(s('rect', { x, y: 0, width: total - x, height: 10, class: 'c-rest' }));
  if (threshold && row.isTotal && threshold.value > 0 && threshold.value <= total) {
    rects.push(s('line', {
      x1: threshold.value, x2: threshold.value, y1: 0, y2: 10, class: 'threshold', 'vector-effect': 'non-scaling-stroke',
    }));
  }
  // row.text: what the row's figures read as, when its counts are only the bar's scale (a rate drawn
  // out of 1000 reads as its percentage, not as a count)
  const numbers = row.text ?? legend.map((o, i) => [i ? ' · ' : '', label(o), ` ${row.counts[o.key] || 0}`]);
  return h('div', { class: ['chart-row', row.isTotal ? 'is-total' : null] },
    h('div', { class: 'chart-label' },
      h('span', { class: ['chart-name', row.isData ? 'data-text' : null] }, row.label),
      h('span', { class: 'chart-numbers' }, numbers, row.detail ? ` ／ ${row.detail}` : '')),
    s('svg', {
      class: 'bar', viewBox: `0 0 ${total} 10`, preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false',
    }, rects));
}
