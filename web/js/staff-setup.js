// Staff: congress setup — rules, the check-in window, the proposal filing window, the stream (URL and observers' delay) and
// the watch link for workers.

import { choice, clear, data, field, h, region } from './dom.js';
import { t, tx } from './i18n.js';
import { holdSuggestion, streamHealthCard } from './stream-health.js';

function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : null;
}

// A form is rebuilt when the setting it shows changes — by its own save too — so each form's
// last status message is kept here, by the op that form sends, and shown again.
const messages = new Map();

function statusFor(op) {
  const [cls, text] = messages.get(op) || ['', ''];
  return h('p', { class: ['form-status', cls], role: 'status', 'aria-live': 'polite', dataset: { op } }, text);
}

function show(op, cls, text) {
  messages.set(op, [cls, text]);
  for (const el of document.querySelectorAll(`.form-status[data-op="${op}"]`)) {
    el.className = `form-status ${cls}`;
    el.textContent = text;
  }
}

async function save(live, op, args) {
  show(op, '', t('common.sending'));
  try {
    const result = await live.command(op, args);
    // A change the server accepts but warns about (an http:// stream) says so beside 已保存.
    if (result?.warning) show(op, 'warn', t('common.saved_warning', { warning: result.warning }));
    else show(op, 'ok', t('common.saved'));
    return true;
  } catch (error) {
    show(op, 'bad', t('common.error', { message: error.message }));
    return false;
  }
}

export function mountSetup(root, { store, live, congressId }) {
  let setup = null; // from the congress_setup view
  let loading = false;
  let tried = false;

  async function load() {
    if (loading) return;
    loading = true;
    try {
      setup = await live.command('congress_setup');
    } finally {
      loading = false;
    }
    update(false);
  }

  function rulesForm() {
    const rules = store.state.congress.rules || {};
    const quorumInput = h('input', { type: 'text', id: 'rule-quorum', value: rules.quorum || '2/3', pattern: '\\d+/\\d+', required: true });
    const inclusive = h('input', { type: 'checkbox', id: 'rule-inclusive', checked: rules.quorum_inclusive !== false });
    const cosigners = h('input', { type: 'number', id: 'rule-cosigners', min: 0, max: 20, value: rules.cosigners_required ?? 2, class: 'num-input' });
    const status = statusFor('set_rules');
    const form = h('form', { class: 'card', 'aria-labelledby': 'rules-h' },
      h('h3', { id: 'rules-h' }, t('setup.rules')),
      field(t('setup.quorum'), quorumInput, t('setup.quorum_hint')),
      h('label', { class: 'choice', for: inclusive.id }, inclusive, h('span', {}, t('setup.quorum_inclusive'))),
      field(t('setup.cosigners'), cosigners),
      h('button', { type: 'submit', class: 'primary' }, t('common.save')), status);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      save(live, 'set_rules', { rules: {
        quorum: quorumInput.value.trim(), quorum_inclusive: inclusive.checked, cosigners_required: Number(cosigners.value),
      } });
    });
    return form;
  }

  function checkInForm() {
    const span = store.state.congress.check_in || {};
    const opens = h('input', { type: 'datetime-local', id: 'checkin-opens', value: toLocalInput(span.opens_at) });
    const closes = h('input', { type: 'datetime-local', id: 'checkin-closes', value: toLocalInput(span.closes_at) });
    const status = statusFor('set_check_in_window');
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const form = h('form', { class: 'card', 'aria-labelledby': 'checkin-window-h' },
      h('h3', { id: 'checkin-window-h' }, t('setup.check_in')),
      h('p', { class: 'hint' }, t('setup.time_hint', { zone })),
      h('div', { class: 'row' }, field(t('setup.opens_at'), opens), field(t('setup.closes_at'), closes)),
      h('button', { type: 'submit', class: 'primary' }, t('common.save')), status);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      save(live, 'set_check_in_window', { opens_at: fromLocalInput(opens.value), closes_at: fromLocalInput(closes.value) });
    });
    return form;
  }

  // 提案征集: when delegates may submit proposals; after the close the rule late_proposals decides
  function filingForm() {
    const span = store.state.congress.filing || {};
    const opens = h('input', { type: 'datetime-local', id: 'filing-opens', value: toLocalInput(span.opens_at) });
    const closes = h('input', { type: 'datetime-local', id: 'filing-closes', value: toLocalInput(span.closes_at) });
    const status = statusFor('set_filing_window');
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const late = store.state.congress.rules?.late_proposals === 'refuse' ? 'refuse' : 'between_sessions';
    const form = h('form', { class: 'card', 'aria-labelledby': 'filing-window-h' },
      h('h3', { id: 'filing-window-h' }, t('setup.filing')),
      h('p', { class: 'hint' }, t('setup.time_hint', { zone }), ' ', t(`setup.filing_late_${late}`)),
      h('div', { class: 'row' }, field(t('setup.filing_opens_at'), opens), field(t('setup.filing_closes_at'), closes)),
      h('button', { type: 'submit', class: 'primary' }, t('common.save')), status);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      save(live, 'set_filing_window', { opens_at: fromLocalInput(opens.value), closes_at: fromLocalInput(closes.value) });
    });
    return form;
  }

  // Updated in place from the stream's health (every ~2 s), so the form being typed in is not rebuilt
  const suggestion = h('p', { class: 'hint stream-hold-suggestion', 'aria-live': 'off' });

  function showSuggestion() {
    suggestion.textContent = holdSuggestion(store.streamHealth, store.state.congress.stream);
  }

  function streamForm() {
    const stream = store.state.congress.stream || { kind: 'none', url: null, delay_seconds: 0 };
    const kind = h('select', { id: 'stream-kind' }, ['none', 'hls', 'embed'].map((k) => h('option', { value: k, selected: stream.kind === k }, t(`setup.stream_${k}`))));
    const url = h('input', { type: 'url', id: 'stream-url', value: stream.url || '', placeholder: 'https://…/live.m3u8' });
    const delay = h('input', { type: 'number', id: 'stream-delay', min: 0, max: 120, value: stream.delay_seconds || 0, class: 'num-input' });
    const status = statusFor('set_stream');
    const form = h('form', { class: 'card', 'aria-labelledby': 'stream-h' },
      h('h3', { id: 'stream-h' }, t('setup.stream')),
      field(t('setup.stream_kind'), kind),
      field(t('setup.stream_url'), url),
      field(t('setup.stream_delay'), delay, t('setup.stream_delay_hint', { n: stream.delay_seconds || 0 })),
      suggestion,
      h('button', { type: 'submit', class: 'primary' }, t('common.save')), status);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      save(live, 'set_stream', { kind: kind.value, url: url.value.trim() || null, delay_seconds: Number(delay.value || 0) });
    });
    return form;
  }

  // The watch link with its secret comes once, in set_watch's reply (the server keeps only an
  // HMAC of it): held in this page's memory so the form, rebuilt by the watch.set event, still
  // shows it, and gone on reload. Lost? Tick 重新生成 and save: the old link stops working.
  let issued = null; // {token, path}
  let issuedCount = 0;
  // What staff have chosen or typed in the form and not saved yet: the form is rebuilt when the
  // setup read arrives or an event changes the mode, and a rebuild used to drop it (a token typed
  // just before the read came back was sent as no token at all: the server made one and said 已保存).
  let watchDraft = null; // {mode, token, renew}

  function watchLinks(secret) {
    const base = location.origin;
    const q = secret ? `&watch=${encodeURIComponent(secret)}` : '';
    return [
      [t('setup.watch_link'), `${base}/watch?congress=${congressId}${q}`],
      [t('setup.screen_link'), `${base}/screen?congress=${congressId}${q}`],
      [t('setup.chapters_link'), `${base}/api/congresses/${congressId}/chapters.vtt${secret ? `?watch=${encodeURIComponent(secret)}` : ''}`],
    ];
  }

  function issuedNotice() {
    const full = `${location.origin}${issued.path}`;
    const copy = h('button', { type: 'button', class: 'small', id: 'watch-link-copy' }, t('setup.watch_link_copy'));
    copy.addEventListener('click', () => {
      navigator.clipboard?.writeText(full).then(() => { copy.textContent = t('setup.watch_link_copied'); }, () => {});
    });
    return h('div', { class: 'notice ok', id: 'watch-link-once', role: 'status' },
      h('p', {}, t('setup.watch_link_once')),
      // in a .links dd: a long link wraps on a phone
      h('dl', { class: 'links' }, h('div', {}, h('dt', {}, t('setup.watch_link')),
        h('dd', {}, h('code', { class: 'data-text', id: 'watch-link-full' }, full)))), copy);
  }

  function watchForm() {
    const mode = store.state.congress.watch_mode || setup?.watch_mode || 'open';
    const token = h('input', { type: 'text', id: 'watch-token-value', autocomplete: 'off', spellcheck: 'false' }); // the server's rule, refused in words
    const renew = h('input', { type: 'checkbox', id: 'watch-renew' });
    const status = statusFor('set_watch');
    const secret = mode === 'token' && issued ? issued.token : null;
    let notice = null;
    if (secret) notice = issuedNotice();
    else if (mode === 'token' && setup && !setup.has_watch_token) notice = h('p', { class: 'notice warn', id: 'watch-link-outdated' }, t('setup.watch_link_outdated'));
    else if (mode === 'token') notice = h('p', { class: 'hint', id: 'watch-link-hidden' }, t('setup.watch_link_hidden'));
    const form = h('form', { class: 'card', 'aria-labelledby': 'watch-h' },
      h('h3', { id: 'watch-h' }, t('setup.watch')),
      h('fieldset', { class: 'choices' }, h('legend', {}, t('setup.watch_mode')),
        ['open', 'token', 'off'].map((m) => choice('radio', 'watch-mode', m, t(`setup.watch_${m}`), { checked: (watchDraft?.mode ?? mode) === m, id: `watch-mode-${m}` }))),
      field(t('setup.watch_token_value'), token, t('setup.watch_token_hint')),
      mode === 'token' ? h('label', { class: 'choice', for: renew.id }, renew, h('span', {}, t('setup.watch_renew'))) : null,
      h('button', { type: 'submit', class: 'primary' }, t('common.save')), status, notice,
      h('dl', { class: 'links' }, watchLinks(secret).map(([label, href]) => h('div', {}, h('dt', {}, label), h('dd', {}, h('a', { href, target: '_blank', rel: 'noopener' }, href))))));
    if (watchDraft) {
      token.value = watchDraft.token;
      renew.checked = watchDraft.renew;
    }
    const keepDraft = () => {
      watchDraft = { mode: form.querySelector('input[name=watch-mode]:checked')?.value, token: token.value, renew: renew.checked };
    };
    form.addEventListener('input', keepDraft);
    form.addEventListener('change', keepDraft);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const chosen = form.querySelector('input[name=watch-mode]:checked')?.value || 'open';
      const args = { mode: chosen };
      if (chosen === 'token') {
        if (token.value.trim()) args.token = token.value.trim();
        if (renew.checked) args.renew = true;
      }
      show('set_watch', '', t('common.sending'));
      try {
        const result = await live.command('set_watch', args);
        if (result?.token) issued = { token: result.token, path: result.watch_path };
        else if (chosen !== 'token') issued = null;
        issuedCount += 1;
        watchDraft = null; // saved: the form shows what the server holds
        show('set_watch', 'ok', t('common.saved'));
        if (setup) setup = { ...setup, watch_mode: chosen, has_watch_token: setup.has_watch_token || Boolean(result?.token) };
        update(false);
      } catch (error) {
        show('set_watch', 'bad', t('common.error', { message: error.message }));
      }
    });
    return form;
  }

  // Which other sites may show the watch page and the big screen inside their own page
  // (set_embedding): none by default; a site named here goes into those two pages' frame-ancestors.
  function embedForm() {
    // Not offered before the stored sites are known: an empty box typed into then would be rebuilt
    // (and what was typed lost) when they arrive, and 保存 would have sent the empty list.
    if (!setup) {
      return h('section', { class: 'card', 'aria-labelledby': 'embed-h' },
        h('h3', { id: 'embed-h' }, t('setup.embed')), h('p', { class: 'muted' }, t('common.loading')));
    }
    const origins = setup.embed_origins || [];
    const input = h('textarea', { id: 'embed-origins', rows: 3, spellcheck: 'false', placeholder: 'https://portal.example.cn' }, origins.join('\n'));
    const status = statusFor('set_embedding');
    const code = `<iframe src="${location.origin}/watch?congress=${congressId}" width="960" height="720" allow="autoplay; fullscreen"></iframe>`;
    const form = h('form', { class: 'card', 'aria-labelledby': 'embed-h' },
      h('h3', { id: 'embed-h' }, t('setup.embed')),
      field(t('setup.embed_origins'), input, t('setup.embed_hint')),
      h('button', { type: 'submit', class: 'primary' }, t('common.save')), status,
      origins.length ? h('p', { class: 'hint' }, t('setup.embed_code'), ' ', h('code', { id: 'embed-code' }, code)) : null);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      save(live, 'set_embedding', { origins: input.value.split(/[\s,，]+/).filter(Boolean) });
    });
    return form;
  }

  function groupsCard() {
    if (!setup) return h('p', { class: 'muted' }, t('common.loading'));
    return h('section', { class: 'card', 'aria-labelledby': 'groups-h' },
      h('h3', { id: 'groups-h' }, t('setup.groups')),
      h('ul', {}, setup.groups.map((g) => h('li', {}, tx('setup.group_roll', { ...g, name: data(g.name) })))));
  }

  const container = h('div', { class: 'setup-grid' });
  let built = false;
  let parts = [];

  function build() {
    clear(root, h('h2', {}, t('staff.nav.setup')), container);
    const slots = [h('div'), h('div'), h('div'), h('div'), h('div'), h('div')];
    const healthSlot = h('div'); // 直播状态, beside the stream's form
    const filingSlot = h('div'); // 提案征集, beside the check-in window
    clear(container, slots.slice(0, 2), filingSlot, slots[2], healthSlot, slots.slice(3));
    // The forms keep what staff typed when another staff member's save rebuilds them (keepEdits)
    const form = { keepEdits: true };
    parts = [
      region(slots[0], () => store.state.congress.rules, rulesForm, form),
      region(slots[1], () => store.state.congress.check_in, checkInForm, form),
      region(filingSlot, () => [store.state.congress.filing, store.state.congress.rules?.late_proposals], filingForm, form),
      region(slots[2], () => store.state.congress.stream, streamForm, form),
      region(healthSlot, () => [store.state.congress.stream, store.streamHealth && { ...store.streamHealth, at: null }],
        () => streamHealthCard(store.streamHealth, store.state.congress.stream)),
      region(slots[3], () => [store.state.congress.watch_mode, setup?.watch_mode, setup?.has_watch_token, issuedCount],
        watchForm, form),
      region(slots[4], () => setup, groupsCard, form),
      region(slots[5], () => setup?.embed_origins, embedForm, form),
    ];
  }

  function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      build();
      built = true;
    }
    for (const part of parts) part(force);
    showSuggestion();
    if (!tried && store.isConnected) {
      tried = true;
      load().catch(() => {});
    }
  }

  store.subscribe((change) => {
    if (change.kind === 'event' && ['roster.imported', 'groups.added', 'watch.set', 'embedding.set'].includes(change.event.type)) {
      load().catch(() => {});
    }
  });
  return update;
}
