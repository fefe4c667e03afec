// What the watch page and the venue screen share: which congress (`?congress=ID`, else the most
// recent), the watch token (`?watch=`), and what to show when watching is refused.

import { congresses, param } from './api.js';
import { clear, field, h } from './dom.js';
import { t } from './i18n.js';
import { connect } from './state.js';

export async function resolveCongressId() {
  const given = param('congress');
  if (given && /^\d+$/.test(given)) return Number(given);
  const list = await congresses().catch(() => []);
  return list.length ? list[0].id : null;
}

function tokenForm() {
  const input = h('input', { type: 'password', id: 'watch-token', required: true, autocomplete: 'off' });
  const form = h('form', { class: 'token-form' }, field(t('watch.token_label'), input),
    h('button', { type: 'submit', class: 'primary' }, t('watch.token_submit')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const params = new URLSearchParams(location.search);
    params.set('watch', input.value);
    location.search = params.toString();
  });
  return form;
}

/** Connect as an observer; `where` shows the refusal (and the token form) if watching is refused. */
export async function observe(where, { feed = null } = {}) {
  const congressId = await resolveCongressId();
  if (congressId === null) {
    clear(where, h('p', { class: 'notice warn', role: 'alert' }, t('watch.no_congress')));
    return null;
  }
  return connect({
    congressId,
    watch: param('watch'),
    feed,
    onRefused: (code) => {
      document.getElementById('loading')?.setAttribute('hidden', '');
      clear(where, h('div', { class: 'card' },
        h('p', { class: 'notice warn', role: 'alert' }, t(`live.refused.${code}`)),
        code === 4401 ? tokenForm() : null));
    },
  });
}
