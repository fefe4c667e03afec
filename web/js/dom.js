// Building DOM safely: every piece of text goes in through textContent or a text node, never
// through innerHTML, so a title like "<script>alert(1)</script>" shows as those characters.

const SVG_NS = 'http://www.w3.org/2000/svg';
const BOOLEAN_PROPS = new Set(['disabled', 'checked', 'hidden', 'required', 'selected', 'multiple', 'readOnly',
  'autofocus', 'open']);

function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function setProps(el, props, isSvg) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false && !BOOLEAN_PROPS.has(key)) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'on') for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'for') el.htmlFor = value;
    else if (!isSvg && BOOLEAN_PROPS.has(key)) el[key] = Boolean(value);
    else if (!isSvg && key === 'value') el.value = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** h('button', {class: 'primary', on: {click}}, 'text', child, [more]) — an HTML element. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props, false);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props, true);
  append(el, children);
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idCounter = 0;
export function uid(prefix = 'f') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form field: <div class="field"><label for=id>label</label><input id=id ...>hint</div>. */
export function field(label, control, hint) {
  if (!control.id) control.id = uid('in');
  const parts = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hintEl = h('p', { class: 'hint', id: `${control.id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
    parts.push(hintEl);
  }
  return h('div', { class: 'field' }, parts);
}

/** A checkbox or radio with its label after it. */
export function choice(type, name, value, label, props = {}) {
  const input = h('input', { type, name, value, id: uid('ch'), ...props });
  return h('label', { class: 'choice', for: input.id }, input, h('span', {}, label));
}

/**
 * A part of a page that is rebuilt only when what it shows changes: `deps()` returns plain data,
 * compared as JSON with the last build. Keeps focus on the same element id across a rebuild, so a
 * keyboard user does not lose their place when an unrelated event arrives.
 */
export function region(container, deps, build) {
  let last;
  return function update(force = false) {
    const next = JSON.stringify(deps() ?? null);
    if (!force && next === last) return;
    last = next;
    const focused = document.activeElement && container.contains(document.activeElement) ? document.activeElement.id : null;
    clear(container, build());
    if (focused) document.getElementById(focused)?.focus();
  };
}

export function formatTime(iso, withDate = false) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const opts = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false };
  if (withDate) Object.assign(opts, { year: 'numeric', month: '2-digit', day: '2-digit' });
  return date.toLocaleString(document.documentElement.lang || 'zh-CN', opts);
}
