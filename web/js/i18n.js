// Strings of every page in 简体中文 (the default) and English, from one catalogue per language:
// web/i18n/<lang>.json, a flat object of key → string with {placeholders} (docs/i18n.md says how
// to add a language). The choice is kept in localStorage and set on <html lang>, so screen readers
// and fonts follow it.
//
// The catalogue is fetched by a top-level await, so no page module runs before its strings are
// here (no key flashes on screen). Not a JSON module import (`with { type: 'json' }`): Safari
// parses it only from 17.2 and older WebViews (WeChat's, iOS 16 phones) refuse the whole module
// graph; top-level await and fetch work from Safari 15 / Chrome 89. The fetch is same-origin, as
// the pages' CSP (connect-src 'self') wants, and cached like the scripts (StaticFiles' ETag).
//
// Server refusals: `code` is stable and the catalogue has `error.<code>` (and
// `error.<code>.<param>…` for the params an error carries); errorMessage() gives the text in the
// page's language. The server's own `message` is Chinese: shown as it is on a Chinese page (it is
// the more precise sentence) and for a code the catalogue does not know. A result's words are the
// official record: kept in Chinese, under an English summary built from the figures (results.js,
// officialWords). The fixed vocabulary the server stores in Chinese (categories, agenda kinds,
// decisions, ratings …) is shown through term(); statuses and reply classes by their codes.
// People's words inside a page's sentence (names, titles, groups) go in through tx() with dom.js
// data(), marked class="data-text" (tests/browser/test_english_pages.py finds any other Chinese on
// an English page).

const STORAGE_KEY = 'congress.lang';
export const LANGS = ['zh-CN', 'en'];
const DEFAULT = 'zh-CN';
const SERVER_LANG = 'zh-CN'; // the language of the server's `message` and of the record
const CATALOGUES = new URL('../i18n/', import.meta.url); // web/i18n/, served as /static/i18n/

const DICTS = {};
const warned = new Set();

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

async function load(code) {
  if (!DICTS[code]) {
    const response = await fetch(new URL(`${code}.json`, CATALOGUES), { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`i18n: ${code}.json: HTTP ${response.status}`);
    DICTS[code] = await response.json();
  }
  return DICTS[code];
}

// ?lang=en on any page (e.g. the venue screen, which has nothing to click) chooses and keeps it.
const asked = new URLSearchParams(location.search).get('lang');
if (LANGS.includes(asked)) {
  try {
    localStorage.setItem(STORAGE_KEY, asked);
  } catch {
    // private mode
  }
}
let current = LANGS.includes(asked) ? asked : (LANGS.includes(stored()) ? stored() : DEFAULT);

// The chosen language's catalogue, else the default's; without either no page can run: say so in
// both languages rather than leave a blank page.
for (const code of new Set([current, DEFAULT])) {
  try {
    await load(code);
    current = code;
    break;
  } catch (error) {
    console.warn(error);
  }
}
if (!DICTS[current]) {
  const notice = document.createElement('p');
  notice.className = 'notice bad';
  notice.setAttribute('role', 'alert');
  notice.textContent = '页面文字未能加载，请刷新本页。 The page\u2019s text did not load: please reload.';
  document.body?.prepend(notice);
  throw new Error('i18n: no catalogue could be loaded');
}

export function lang() {
  return current;
}

function lookup(key) {
  return DICTS[current][key] ?? DICTS[DEFAULT]?.[key];
}

function fill(text, vars) {
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** t('vote.progress_line', {cast: 3, ...}) — the string in the current language. */
export function t(key, vars = {}) {
  const text = lookup(key);
  if (text === undefined) {
    if (!warned.has(key)) console.warn(`i18n: no string for ${key}`);
    warned.add(key);
    return key;
  }
  return fill(text, vars);
}

/**
 * t() for element children: the same string, with each value that is a DOM node (e.g. dom.js
 * data(name)) put in as that node, not as text. Returns an array for h()/clear().
 */
export function tx(key, vars = {}) {
  const plain = {};
  const nodes = [];
  for (const [name, value] of Object.entries(vars)) {
    if (value instanceof Node) {
      plain[name] = `\u0000${nodes.length}\u0000`;
      nodes.push(value);
    } else {
      plain[name] = value;
    }
  }
  return t(key, plain).split(/\u0000(\d+)\u0000/).map((part, i) => (i % 2 ? nodes[Number(part)] : part)).filter((part) => part !== '');
}

let switching = 0;

/**
 * Switch the language: its catalogue is fetched first (once), then <html lang> is set and the page
 * told to render again ('langchange'). Resolves when done; a catalogue that cannot load leaves the
 * page as it is.
 */
export async function setLang(next) {
  const wanted = LANGS.includes(next) ? next : DEFAULT;
  const mine = ++switching;
  try {
    await load(wanted);
  } catch (error) {
    console.warn(error);
    return;
  }
  if (mine !== switching) return; // a later click won
  current = wanted;
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch {
    // private mode: the switch lasts for this page only
  }
  document.documentElement.lang = current;
  window.dispatchEvent(new CustomEvent('langchange', { detail: current }));
}

export function applyLang() {
  document.documentElement.lang = current;
}

/**
 * The words of a server refusal in the page's language: `error.<code>.<param>…` when the error
 * carries params (e.g. {field: 'questions'} → error.missing_field.field), else `error.<code>`; the
 * server's own (Chinese) message on a Chinese page, and for a code the catalogue does not know.
 */
export function errorMessage(code, params, message) {
  if (message && current === SERVER_LANG) return message;
  const names = params && typeof params === 'object' ? Object.keys(params).sort() : [];
  const keys = [...(names.length ? [`error.${code}.${names.join('.')}`] : []), `error.${code}`];
  for (const key of keys) {
    const text = DICTS[current][key];
    if (text !== undefined) return fill(text, params || {});
  }
  return message || code;
}

/** The label of an option: yes/no/abstain are translated, candidate names and scale labels shown as given. */
export function optionLabel(option) {
  if (['yes', 'no', 'abstain'].includes(option.key)) return t(`option.${option.key}`);
  return option.label ?? option.key;
}

/**
 * term('category', '安全环保') — a word of the congress's fixed vocabulary in the current language
 * (the catalogue's `term.<kind>.<word>`), itself if unknown. The server stores and sends these
 * words in Chinese (a decision, a category, an agenda item's kind are these very words); a word not
 * in the list (a category a congress added, a kind typed by hand) is shown as it is. Values sent
 * back to the server stay the Chinese words; only what people read changes.
 */
export function term(kind, value) {
  if (value === null || value === undefined) return value;
  return DICTS[current][`term.${kind}.${value}`] ?? value;
}

export function delegateType(type) {
  return term('delegate_type', type);
}
