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

/**
 * People's words inside a sentence of the page (a name, a title, a group): shown as given in any
 * language, marked so (class data-text) — e.g. tx('board.proposer', { name: data(p.proposer) }).
 */
export function data(text) {
  return h('span', { class: 'data-text' }, text ?? '');
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

// The control an input method is composing in (拼音 → 汉字). Rebuilding the part that holds it
// would cut the composition off and leave the pinyin letters behind as text ("zuo左子健"), so
// those rebuilds wait for the composition's end, and then build from the state as it is by then.
let composing = null;
const waiting = new Map(); // container -> [build, keepEdits]
document.addEventListener('compositionstart', (e) => { composing = e.target; }, true);
document.addEventListener('compositionend', () => {
  composing = null;
  // After the input event that carries the committed text, so the build sees it.
  setTimeout(() => {
    const due = [...waiting];
    waiting.clear();
    for (const [container, [build, keepEdits]] of due) rebuild(container, build, keepEdits);
  });
}, true);

/**
 * Replace what `container` shows with `build()`, keeping the place of a user who is in it: the
 * focused control (found again by id) gets focus back with its caret and selection. Without the
 * caret, an event that rebuilt the card while a delegate was retyping the co-signer search (select
 * all, type) appended the new text to the old instead of replacing it.
 */
export function rebuild(container, build, keepEdits = false) {
  if (composing?.isConnected && container.contains(composing)) { // (a removed control composes no more)
    waiting.set(container, [build, keepEdits]);
    return;
  }
  const active = document.activeElement;
  const kept = active?.id && container.contains(active) ? placeOf(active) : null;
  const edits = keepEdits ? editsIn(container) : [];
  clear(container, build());
  if (keepEdits) {
    noteBuilt(container);
    for (const edit of edits) putBack(container, edit);
  }
  if (!kept) return;
  const again = document.getElementById(kept.id);
  if (!again) return;
  again.focus();
  if (kept.selection && again.value === kept.value) {
    try {
      again.setSelectionRange(...kept.selection);
      again.scrollTop = kept.scrollTop;
    } catch {
      // a control without a text selection (checkbox, number): focus is all there is to keep
    }
  }
}

// What each control of a keepEdits region showed when it was built: the stored value. A control
// whose value differs from it now holds the user's typing.
const built = new WeakMap();
const CONTROLS = 'input[id], textarea[id], select[id]';

function shown(el) {
  return el.type === 'checkbox' || el.type === 'radio' ? el.checked : el.value;
}

function noteBuilt(container) {
  for (const el of container.querySelectorAll(CONTROLS)) built.set(el, shown(el));
}

function editsIn(container) {
  const edits = [];
  for (const el of container.querySelectorAll(CONTROLS)) {
    if (built.has(el) && shown(el) !== built.get(el)) edits.push({ id: el.id, stored: built.get(el), typed: shown(el) });
  }
  return edits;
}

// The user's typing goes back into the rebuilt control, unless what is stored for that very field
// changed meanwhile (another staff member saved it): then theirs shows, as saved.
function putBack(container, edit) {
  const again = document.getElementById(edit.id);
  if (!again || !container.contains(again) || built.get(again) !== edit.stored) return;
  if (again.type === 'checkbox' || again.type === 'radio') again.checked = edit.typed;
  else again.value = edit.typed;
}

function placeOf(el) {
  let selection = null;
  try {
    if (typeof el.selectionStart === 'number') selection = [el.selectionStart, el.selectionEnd, el.selectionDirection];
  } catch {
    // selectionStart throws on some input types
  }
  return { id: el.id, value: el.value, selection, scrollTop: el.scrollTop };
}

/**
 * A part of a page that is rebuilt only when what it shows changes: `deps()` returns plain data,
 * compared as JSON with the last build. Keeps the user's place (focus, caret) across a rebuild, so
 * an unrelated event does not take it away while they type. With `{ keepEdits: true }` (a settings
 * form) what the user typed into any of its fields (found again by id) survives the rebuild too, as
 * long as that field's stored value did not change: another staff member saving one setting does
 * not wipe what this one typed into the others.
 */
export function region(container, deps, build, { keepEdits = false } = {}) {
  let last;
  return function update(force = false) {
    const next = JSON.stringify(deps() ?? null);
    if (!force && next === last) return;
    last = next;
    rebuild(container, build, keepEdits);
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
