// Documents (docs/protocol.md, "Documents and discussion"): the delegate's reading list — the
// current item's documents or all of them — and a reader that opens one version in a frame: a PDF
// as the browser shows it, Markdown as the server's rendered page (no script, its own strict CSP)
// in a sandboxed frame. Staff: the upload form, 提交大会审议 and new versions.

import { ApiError } from './api.js';
import { clear, data, field, formatTime, h, region } from './dom.js';
import { t, tx } from './i18n.js';
import { currentItem, onEvents } from './state.js';

function findDoc(state, id) {
  return (state.documents || []).find((d) => d.id === id);
}

onEvents('document', (state, event) => {
  const p = event.payload;
  state.documents = state.documents || [];
  switch (event.type) {
    case 'document.added':
      if (!findDoc(state, p.id)) state.documents.push({ ...p, versions: [...(p.versions || [])] });
      break;
    case 'document.version_added':
    case 'document.version_replaced': {
      const doc = findDoc(state, p.document_id);
      if (!doc) break;
      doc.versions = doc.versions.filter((v) => v.version !== p.version.version).concat([p.version])
        .sort((a, b) => a.version - b.version);
      break;
    }
    case 'document.tabled': {
      const doc = findDoc(state, p.document_id);
      if (doc) doc.is_tabled = true;
      break;
    }
    default:
      break;
  }
});

function isPdf(version) {
  return version.content_type === 'application/pdf';
}

function latest(doc) {
  return doc.versions[doc.versions.length - 1] || null;
}

function sizeText(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** The reader for one version: a sandboxed frame (Markdown) or the browser's PDF viewer. */
export function documentReader(doc, version, onClose, urlOf = (v) => v.url) {
  const pdf = isPdf(version);
  const url = urlOf(version);
  const frame = h('iframe', {
    class: ['doc-frame', pdf ? 'is-pdf' : 'is-md'],
    src: url,
    title: t('docs.frame_title', { title: doc.title, version: version.version }),
    // A Markdown page runs nothing (served with default-src 'none'); the sandbox adds a second lock.
    // A PDF needs the browser's own viewer, which a sandbox would block.
    sandbox: pdf ? null : '',
    referrerpolicy: 'no-referrer',
    loading: 'lazy',
  });
  return h('div', { class: 'doc-reader', id: 'doc-reader', tabindex: '-1', 'aria-label': doc.title },
    h('div', { class: 'doc-reader-bar' },
      h('strong', { class: 'data-text' }, doc.title), ' ',
      h('span', { class: 'tag' }, t('docs.version', { n: version.version })),
      h('a', { href: url, target: '_blank', rel: 'noopener', class: 'doc-open' }, t(pdf ? 'docs.open_pdf' : 'docs.open_page')),
      onClose ? h('button', { type: 'button', class: 'small', on: { click: onClose } }, t('docs.close')) : null),
    frame);
}

/** Delegate page (and the watch page: the public ones): the documents slot. `urlOf(version)` is
 * where a version is read (the watch page adds its watch token when watching needs one). */
export function mountDocuments(root, { store, urlOf = (v) => v.url }) {
  const view = { all: false, open: null }; // open: {docId, version}
  const list = h('div', { class: 'doc-list' });
  const reader = h('div', { class: 'doc-reader-slot' });
  let built = false;

  function docs() {
    const all = store.state.documents || [];
    const item = currentItem(store.state);
    if (view.all || !item) return all;
    return all.filter((d) => d.agenda_item_id === item.id);
  }

  function itemTitle(id) {
    const title = store.state.agenda.find((a) => a.id === id)?.title;
    return title ? data(title) : t('docs.no_item');
  }

  function open(doc, version) {
    view.open = { docId: doc.id, version: version.version };
    readerRegion();
    document.getElementById('doc-reader')?.focus();
  }

  function docRow(doc) {
    const last = latest(doc);
    if (!last) return null;
    return h('li', { class: 'doc-row' },
      h('div', { class: 'doc-head' },
        h('span', { class: 'doc-title data-text' }, doc.title),
        doc.is_tabled ? h('span', { class: 'tag' }, t('docs.tabled')) : null),
      h('p', { class: 'hint' }, itemTitle(doc.agenda_item_id), ' · ', isPdf(last) ? 'PDF' : 'Markdown', ' · ', sizeText(last.size),
        ' · ', formatTime(last.uploaded_at, true)),
      h('div', { class: 'doc-actions' },
        h('button', { type: 'button', class: 'small primary', id: `doc-read-${doc.id}`,
          on: { click: () => open(doc, last) } }, t('docs.read'), doc.versions.length > 1 ? ` (${t('docs.version', { n: last.version })})` : ''),
        doc.versions.slice(0, -1).reverse().map((v) => h('button', { type: 'button', class: 'small',
          on: { click: () => open(doc, v) } }, t('docs.version', { n: v.version })))));
  }

  const listRegion = region(list, () => [store.state.documents, store.state.congress.current_agenda_item_id, view.all],
    () => {
      const shown = docs();
      const toggle = h('button', { type: 'button', class: 'small ghost', id: 'docs-toggle', 'aria-pressed': String(view.all),
        on: { click: () => { view.all = !view.all; listRegion(); } } },
      t(view.all ? 'docs.show_current' : 'docs.show_all'));
      return [toggle, shown.length ? h('ul', { class: 'doc-rows' }, shown.map(docRow)) : h('p', { class: 'muted' }, t('docs.none'))];
    });

  const readerRegion = region(reader, () => {
    if (!view.open) return null;
    const doc = findDoc(store.state, view.open.docId);
    const version = doc?.versions.find((v) => v.version === view.open.version);
    return version ? [doc.id, doc.title, version] : null;
  }, () => {
    const doc = view.open && findDoc(store.state, view.open.docId);
    const version = doc?.versions.find((v) => v.version === view.open.version);
    if (!version) return null;
    return documentReader(doc, version, () => {
      view.open = null;
      readerRegion();
      document.getElementById(`doc-read-${doc.id}`)?.focus();
    }, urlOf);
  });

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      clear(root, h('h2', { class: 'card-label', id: 'docs-h' }, t('docs.title')), list, reader);
      root.setAttribute('aria-labelledby', 'docs-h');
      root.hidden = false;
      built = true;
    }
    listRegion(force);
    readerRegion(force);
  };
}

// ---- staff --------------------------------------------------------------------------------------

async function upload(url, form, csrf, method = 'POST') {
  const response = await fetch(url, { method, body: form, credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf, Accept: 'application/json' } });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data); // its message in the page's language
  return data.result;
}

/** Staff page: the documents view — upload, 提交大会审议, new versions. */
export function mountStaffDocuments(root, { store, live, me, congressId }) {
  let built = false;
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const list = h('div');
  const reader = h('div');
  const base = `/api/congresses/${encodeURIComponent(congressId)}/documents`;

  function say(kind, text) {
    status.className = `form-status ${kind}`;
    status.textContent = text;
  }

  function itemOptions(selected) {
    return [h('option', { value: '' }, t('docs.no_item')),
      ...store.state.agenda.map((a) => h('option', { value: a.id, selected: a.id === selected, class: 'data-text' }, `${a.position ?? ''}. ${a.title}`))];
  }

  function uploadForm() {
    const title = h('input', { type: 'text', id: 'doc-title', required: true, maxlength: 200 });
    const item = h('select', { id: 'doc-item' }, itemOptions(store.state.congress.current_agenda_item_id));
    const isPublic = h('input', { type: 'checkbox', id: 'doc-public' });
    const file = h('input', { type: 'file', id: 'doc-file', required: true, accept: '.pdf,.md,.markdown,.txt,application/pdf,text/markdown,text/plain' });
    const form = h('form', { class: 'card', 'aria-labelledby': 'doc-upload-h' },
      h('h3', { id: 'doc-upload-h' }, t('docs.upload')),
      h('div', { class: 'row' }, h('div', { class: 'grow' }, field(t('docs.field_title'), title)), field(t('docs.field_item'), item)),
      field(t('docs.field_file'), file, t('docs.file_hint')),
      h('label', { class: 'choice', for: isPublic.id }, isPublic, h('span', {}, t('docs.field_public'))),
      h('p', {}, h('button', { type: 'submit', class: 'primary', id: 'doc-upload' }, t('docs.upload'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!file.files.length) return;
      const body = new FormData();
      body.append('title', title.value);
      body.append('agenda_item_id', item.value);
      body.append('is_public', isPublic.checked ? '1' : '0');
      body.append('file', file.files[0], file.files[0].name);
      say('', t('common.sending'));
      try {
        await upload(base, body, me.csrf_token);
        say('ok', t('docs.uploaded'));
        form.reset();
        title.focus();
      } catch (error) {
        say('bad', t('common.error', { message: error.message }));
      }
    });
    return form;
  }

  function docRow(doc) {
    const versionFile = h('input', { type: 'file', id: `doc-v-${doc.id}`, 'aria-label': t('docs.new_version_for', { title: doc.title }),
      accept: '.pdf,.md,.markdown,.txt,application/pdf,text/markdown,text/plain' });
    const last = latest(doc);
    return h('li', { class: 'doc-row' },
      h('div', { class: 'doc-head' }, h('span', { class: 'doc-title data-text' }, doc.title),
        doc.is_public ? h('span', { class: 'tag' }, t('docs.public')) : null,
        doc.is_tabled ? h('span', { class: 'tag' }, t('docs.tabled')) : null),
      h('p', { class: 'hint' }, doc.versions.map((v, i) => [i ? t('docs.version_separator') : '',
        tx('docs.version_line', { n: v.version, file: v.filename, by: data(v.uploaded_by), at: formatTime(v.uploaded_at, true) })])),
      h('div', { class: 'doc-actions' },
        last ? h('button', { type: 'button', class: 'small', on: { click: () => clear(reader, documentReader(doc, last, () => clear(reader))) } }, t('docs.read')) : null,
        doc.is_tabled ? null : h('button', { type: 'button', class: 'small primary', id: `doc-table-${doc.id}`,
          on: {
            click: async () => {
              say('', t('common.sending'));
              try {
                await live.command('table_document', { document_id: doc.id });
                say('ok', t('docs.tabled_ok', { title: doc.title }));
              } catch (error) {
                say('bad', t('common.error', { message: error.message }));
              }
            },
          } }, t('docs.table')),
        versionFile,
        h('button', { type: 'button', class: 'small', on: {
          click: async () => {
            if (!versionFile.files.length) {
              say('bad', t('docs.pick_file'));
              versionFile.focus();
              return;
            }
            const body = new FormData();
            body.append('file', versionFile.files[0], versionFile.files[0].name);
            say('', t('common.sending'));
            try {
              await upload(`${base}/${doc.id}/versions`, body, me.csrf_token);
              say('ok', t('docs.version_uploaded'));
            } catch (error) {
              say('bad', t('common.error', { message: error.message }));
            }
          },
        } }, t('docs.new_version'))));
  }

  const listRegion = region(list, () => store.state.documents, () => {
    const all = store.state.documents || [];
    return all.length ? h('ul', { class: 'doc-rows' }, all.map(docRow)) : h('p', { class: 'muted' }, t('docs.none_staff'));
  });

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      clear(root, h('h2', {}, t('staff.nav.documents')), uploadForm(),
        h('section', { class: 'card', 'aria-labelledby': 'doc-list-h' }, h('h3', { id: 'doc-list-h' }, t('docs.title')), status, list, reader));
      built = true;
    }
    listRegion(force);
  };
}
