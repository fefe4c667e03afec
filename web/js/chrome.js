// What every page shares: the top bar (title, who is signed in, language switch, sign-out) and
// the language handling of the page as a whole.

import { go, signOut } from './api.js';
import { clear, h } from './dom.js';
import { applyLang, lang, setLang, t } from './i18n.js';

export function langButton() {
  return h('button', {
    type: 'button', class: 'ghost lang-switch', lang: lang() === 'en' ? 'zh-CN' : 'en',
    'aria-label': t('lang.switch_label'),
    on: { click: () => setLang(lang() === 'en' ? 'zh-CN' : 'en') },
  }, t('lang.switch'));
}

export function signOutButton(csrf) {
  return h('button', {
    type: 'button', class: 'ghost',
    on: {
      click: async () => {
        try {
          await signOut(csrf);
        } finally {
          go('/sign-in');
        }
      },
    },
  }, t('common.sign_out'));
}

/**
 * Fill `container` (a <header>) and keep it in the current language.
 * title(): the page title (a string, or a node such as dom.js data(name) for people's words);
 * user: {name, csrf} when signed in.
 */
export function mountHeader(container, { title, subtitle, user } = {}) {
  function render() {
    const heading = title();
    document.title = `${heading instanceof Node ? heading.textContent : heading} · ${t('app.name')}`;
    const skip = document.querySelector('.skip');
    if (skip) skip.textContent = t('common.skip');
    clear(container,
      h('div', { class: 'bar' },
        h('div', { class: 'bar-title' },
          h('h1', {}, heading),
          subtitle ? h('p', { class: 'subtitle' }, subtitle() || '') : null),
        h('div', { class: 'bar-actions' },
          user ? h('span', { class: 'who data-text' }, user.name) : null,
          langButton(),
          user ? signOutButton(user.csrf) : null)));
  }
  render();
  window.addEventListener('langchange', render);
  return render;
}

/** Start a page: apply the stored language and call render() again whenever it changes. */
export function onLanguage(render) {
  applyLang();
  window.addEventListener('langchange', () => render(true));
}
