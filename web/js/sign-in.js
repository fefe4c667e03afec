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
// When each form may be sent again (ms since epoch): the server said how long to wait. Kept out
// of the form, which is rebuilt on a tab or language switch, so the wait survives that.
const waitUntil = { delegate: 0, staff: 0 };
const ticking = {};

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
  // The countdown is not a live region (a screen reader would read it every second): the status
  // line above says once that there is a wait, and the button comes back when it is over.
  const countdown = h('p', { class: 'form-status wait', id: `${kind}-wait` });
  const el = h('form', { class: 'sign-in-form', id: `${kind}-form` },
    field(t(isDelegate ? 'signin.employee_id' : 'signin.login'), first),
    field(t(isDelegate ? 'signin.code' : 'signin.password'), secret, isDelegate ? t('signin.code_hint') : null),
    submit, status, countdown, choose);

  function tick() {
    const left = Math.ceil((waitUntil[kind] - Date.now()) / 1000);
    if (!el.isConnected || left <= 0) {
      clearInterval(ticking[kind]);
      ticking[kind] = null;
      if (!el.isConnected) return;
      countdown.textContent = '';
      if (submit.disabled && waitUntil[kind]) status.textContent = t('signin.try_again');
      waitUntil[kind] = 0;
      submit.disabled = false;
      return;
    }
    submit.disabled = true;
    countdown.textContent = t('signin.wait', { n: left });
  }

  function wait(seconds) {
    waitUntil[kind] = Date.now() + seconds * 1000;
    clearInterval(ticking[kind]);
    ticking[kind] = setInterval(tick, 250);
    tick();
  }

  async function send(body) {
    if (waitUntil[kind] > Date.now()) return;
    submit.disabled = true;
    submit.textContent = t('signin.signing_in');
    status.textContent = '';
    clear(choose);
    try {
      const result = await signIn(body);
      go(destination(result.role));
    } catch (error) {
      const retryAfter = error.body?.error?.retry_after;
      status.textContent = error.code === 'too_many_attempts' ? t('signin.too_many') : error.message;
      submit.disabled = false;
      submit.textContent = t('signin.submit');
      if (retryAfter > 0) wait(retryAfter); // too many attempts, or a wrong one that starts a wait
      // The 工号 and code open more than one congress in session: the delegate picks one.
      if (error.code === 'choose_congress') clear(choose, congressChoice(error.body.error.congresses, body, send));
      else secret.select();
    }
  }

  // A wait still running when the form is rebuilt (tab or language): go on counting in this one,
  // once it is on the page.
  if (waitUntil[kind] > Date.now()) queueMicrotask(() => wait((waitUntil[kind] - Date.now()) / 1000));
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
    // Sent here by a page whose sign-in ended (live.js): say why before asking again.
    param('ended') === 'session' && !signedIn
      ? h('p', { class: 'notice warn', role: 'status', id: 'signin-ended' }, t('signin.ended')) : null,
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
