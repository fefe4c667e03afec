// Sign-in: delegates with 工号 + 访问码, staff and departments with 账号 + 密码; then on to the
// page of the role the server says this is.

import { go, me as fetchMe, param, signIn } from './api.js';
import { mountHeader, onLanguage } from './chrome.js';
import { clear, data, field, h } from './dom.js';
import { t } from './i18n.js';

const HOME = { delegate: '/delegate', staff: '/staff', department: '/department' };
const app = document.getElementById('app');
let tab = 'delegate';
let signedIn = null;

function destination(role) {
  const congress = param('congress');
  const page = HOME[role] || '/sign-in';
  return role === 'staff' && congress ? `${page}?congress=${encodeURIComponent(congress)}` : page;
}

function form(kind) {
  const isDelegate = kind === 'delegate';
  const status = h('p', { class: 'form-status', role: 'alert', id: `${kind}-status` });
  const first = isDelegate
    ? h('input', { type: 'text', id: 'employee-id', name: 'employee_id', autocomplete: 'username', required: true,
      autocapitalize: 'characters', spellcheck: 'false' })
    : h('input', { type: 'text', id: 'login', name: 'login', autocomplete: 'username', required: true, spellcheck: 'false' });
  const secret = isDelegate
    ? h('input', { type: 'password', id: 'code', name: 'code', autocomplete: 'current-password', required: true,
      autocapitalize: 'characters', spellcheck: 'false' })
    : h('input', { type: 'password', id: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary big' }, t('signin.submit'));
  const choose = h('div', { class: 'choose-congress', id: `${kind}-choose` });
  const el = h('form', { class: 'sign-in-form', id: `${kind}-form` },
    field(t(isDelegate ? 'signin.employee_id' : 'signin.login'), first),
    field(t(isDelegate ? 'signin.code' : 'signin.password'), secret, isDelegate ? t('signin.code_hint') : null),
    submit, status, choose);

  async function send(body) {
    submit.disabled = true;
    submit.textContent = t('signin.signing_in');
    status.textContent = '';
    clear(choose);
    try {
      const result = await signIn(body);
      go(destination(result.role));
    } catch (error) {
      status.textContent = error.message;
      submit.disabled = false;
      submit.textContent = t('signin.submit');
      // The 工号 and code open more than one congress in session: the delegate picks one.
      if (error.code === 'choose_congress') clear(choose, congressChoice(error.body.error.congresses, body, send));
      else secret.select();
    }
  }

  el.addEventListener('submit', (e) => {
    e.preventDefault();
    const congress = param('congress');
    send(isDelegate
      ? { employee_id: first.value.trim(), code: secret.value, ...(congress ? { congress_id: Number(congress) } : {}) }
      : { login: first.value.trim(), password: secret.value });
  });
  return el;
}

function congressChoice(congresses, body, send) {
  return h('fieldset', { class: 'choices' },
    h('legend', {}, t('signin.choose_congress')),
    congresses.map((c) => h('button', {
      type: 'button', class: 'big', dataset: { congressId: c.id },
      on: { click: () => send({ ...body, congress_id: c.id }) },
    }, data(c.name), c.is_rehearsal ? h('span', { class: 'tag' }, t('signin.rehearsal')) : null)));
}

function selectTab(next, focus) {
  tab = next;
  render();
  if (focus) document.getElementById(`tab-${next}`)?.focus();
}

function render() {
  const tabs = [['delegate', t('signin.tab_delegate')], ['staff', t('signin.tab_staff')]];
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('signin.title') },
    tabs.map(([key, label]) => h('button', {
      type: 'button', role: 'tab', id: `tab-${key}`, 'aria-selected': String(tab === key),
      'aria-controls': `panel-${key}`, tabindex: tab === key ? '0' : '-1',
      on: {
        click: () => selectTab(key, true),
        keydown: (e) => {
          if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
            e.preventDefault();
            selectTab(tab === 'delegate' ? 'staff' : 'delegate', true);
          }
        },
      },
    }, label)));
  clear(app,
    signedIn && HOME[signedIn.role]
      ? h('p', { class: 'notice' }, t('signin.already', { name: signedIn.name }), ' ',
        h('a', { href: HOME[signedIn.role] }, t('signin.continue')))
      : null,
    h('section', { class: 'card' },
      h('h2', {}, t('signin.title')),
      tablist,
      h('div', { role: 'tabpanel', id: `panel-${tab}`, 'aria-labelledby': `tab-${tab}` }, form(tab))),
    h('p', {}, h('a', { href: param('congress') ? `/watch?congress=${encodeURIComponent(param('congress'))}` : '/watch' },
      t('signin.watch_link'))));
}

mountHeader(document.getElementById('top'), { title: () => t('app.name') });
onLanguage(render);
render();
fetchMe().then((who) => {
  if (who.role !== 'observer') {
    signedIn = who;
    render();
  }
}).catch(() => {});
