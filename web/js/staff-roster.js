// Staff: roster import with a preview. Upload → check (?dry_run=1) → the summary, or every error
// row (row, column, reason) in a table → confirm import. Nothing changes before the confirmation,
// and a file with errors can never be imported.

import { ApiError, uploadRoster } from './api.js';
import { clear, data, field, h } from './dom.js';
import { t } from './i18n.js';

function errorTable(rows) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'errors', id: 'roster-errors' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'num' }, t('roster.col_row')),
      h('th', { scope: 'col' }, t('roster.col_column')),
      h('th', { scope: 'col' }, t('roster.col_reason')))),
    h('tbody', {}, rows.map((r) => h('tr', {},
      h('td', { class: 'num' }, String(r.row)), h('td', {}, r.column || '—'), h('td', {}, r.reason))))));
}

function summary(result, title) {
  const perGroup = Object.entries(result.per_group || {});
  return h('div', { class: 'roster-summary', id: 'roster-summary' },
    h('p', { class: 'notice ok' }, title),
    h('ul', {},
      h('li', {}, t('roster.voting', { n: result.voting })),
      h('li', {}, t('roster.non_voting', { n: result.non_voting })),
      h('li', {}, t('roster.groups', { n: result.groups })),
      h('li', {}, t('roster.diff', result)),
      result.new_groups?.length ? h('li', {}, t('roster.new_groups', { names: result.new_groups.join('、') })) : null),
    perGroup.length ? h('table', { class: 'compact' },
      h('caption', {}, t('roster.per_group')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('common.group')),
        h('th', { scope: 'col', class: 'num' }, t('roster.col_voting')), h('th', { scope: 'col', class: 'num' }, t('roster.col_non_voting')))),
      h('tbody', {}, perGroup.map(([name, c]) => h('tr', {}, h('th', { scope: 'row' }, name),
        h('td', { class: 'num' }, String(c.voting)), h('td', { class: 'num' }, String(c.non_voting)))))) : null,
    changes(result.changes),
    result.warnings?.length ? h('div', {}, h('h4', {}, t('roster.warnings')),
      h('ul', { class: 'warnings' }, result.warnings.map((w) => h('li', {}, typeof w === 'string' ? w : JSON.stringify(w))))) : null);
}

// Who the file adds, who it no longer lists and what changes for the others, against the roster as it
// stands (for a new session: the previous session's, copied) — what staff check before confirming.
function changes(c) {
  if (!c) return null;
  const who = (r) => data(`${r.name}（${r.employee_id}${r.group ? `，${r.group}` : ''}）`);
  const items = [
    ...c.added.map((r) => h('li', { dataset: { change: 'added' } }, t('roster.changes_added'), who(r))),
    ...c.left.map((r) => h('li', { dataset: { change: 'left' } }, t('roster.changes_left'), who(r))),
    ...c.changed.map((r) => h('li', { dataset: { change: 'changed' } }, t('roster.changes_changed'), who(r), ' ',
      data(r.fields.map((f) => (f.text ? `${f.label} ${f.text}` : `${f.label} ${f.before} → ${f.after}`)).join('；')))),
  ];
  return items.length ? h('ul', { id: 'roster-changes' }, items) : null;
}

export function mountRoster(root, { store, me, congressId }) {
  let built = false;

  function build() {
    const file = h('input', { type: 'file', id: 'roster-file', accept: '.csv,.xlsx,.xls,text/csv', required: true });
    const createGroups = h('input', { type: 'checkbox', id: 'roster-create-groups' });
    const check = h('button', { type: 'submit', class: 'primary', id: 'roster-check' }, t('roster.check'));
    const preview = h('div', { id: 'roster-preview', 'aria-live': 'polite' });
    let checked = null; // {file, createGroups} that passed the check

    function show(...children) {
      clear(preview, children);
    }

    async function confirmImport() {
      const button = preview.querySelector('#roster-confirm');
      button.disabled = true;
      button.textContent = t('roster.importing');
      try {
        const { result } = await uploadRoster(congressId, checked.file, { createGroups: checked.createGroups, csrf: me.csrf_token });
        checked = null;
        show(summary(result, t('roster.imported_title')));
      } catch (error) {
        show(h('p', { class: 'notice bad', role: 'alert' }, error.message),
          error.body?.error?.rows ? errorTable(error.body.error.rows) : null);
      }
    }

    const form = h('form', { class: 'card', id: 'roster-form', 'aria-labelledby': 'roster-h' },
      h('h3', { id: 'roster-h' }, t('roster.title')),
      field(t('roster.file'), file, t('roster.file_hint')),
      h('label', { class: 'choice', for: createGroups.id }, createGroups, h('span', {}, t('roster.create_groups'))),
      h('div', { class: 'actions' }, check));
    file.addEventListener('change', () => { checked = null; show(); });
    createGroups.addEventListener('change', () => { checked = null; show(); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const chosen = file.files[0];
      if (!chosen) {
        show(h('p', { class: 'notice bad', role: 'alert' }, t('roster.choose_file')));
        return;
      }
      check.disabled = true;
      show(h('p', { role: 'status' }, t('roster.checking')));
      try {
        const { result } = await uploadRoster(congressId, chosen, { dryRun: true, createGroups: createGroups.checked, csrf: me.csrf_token });
        checked = { file: chosen, createGroups: createGroups.checked };
        show(summary(result, t('roster.summary_title')),
          h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary big', id: 'roster-confirm', on: { click: confirmImport } }, t('roster.confirm'))));
      } catch (error) {
        const rows = error instanceof ApiError ? error.body?.error?.rows : null;
        show(h('p', { class: 'notice bad', role: 'alert', id: 'roster-error-title' },
          rows ? t('roster.errors_title', { n: rows.length }) : error.message),
        rows ? errorTable(rows) : null);
      } finally {
        check.disabled = false;
      }
    });
    clear(root, h('h2', {}, t('staff.nav.roster')), form, preview);
  }

  return function update(force = false) {
    if (!store.state) return;
    if (!built || force) {
      build();
      built = true;
    }
  };
}
