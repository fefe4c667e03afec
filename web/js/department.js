// The department's page (承办部门): signs in and says where the assigned proposals will appear.
// The proposals feature fills <section data-slot="department-cases"> with the cases and replies.

import { ApiError, congresses, go, me as fetchMe, param } from './api.js';
import { mountHeader, onLanguage } from './chrome.js';
import { clear, data, h } from './dom.js';
import { t } from './i18n.js';
import { mountDepartmentCases } from './proposals-department.js';
import { connect } from './state.js';

const $ = (id) => document.getElementById(id);

/** A read op over HTTP, before the page has a live connection (it does not know which congress yet). */
async function read(congressId, op, csrf) {
  const response = await fetch(`/api/congresses/${encodeURIComponent(congressId)}/commands/${op}`, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf },
    body: '{}',
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data.result;
}

/**
 * The congress to open: the one named in ?congress=, else the one holding the department's open
 * cases (department_congresses), not merely the newest listed — next year's congress being
 * prepared holds none. Returns {congressId, holding: [{congress_id, name, cases, open_cases}]}.
 */
async function chooseCongress(me) {
  const given = param('congress');
  const list = await congresses().catch(() => []);
  const anyId = list[0]?.id ?? null;
  let holding = [];
  let chosen = null;
  if (anyId !== null) {
    try {
      const found = await read(anyId, 'department_congresses', me.csrf_token);
      holding = found.congresses;
      chosen = found.open_congress_id;
    } catch {
      // the list of congresses is enough to open one
    }
  }
  if (given && /^\d+$/.test(given)) return { congressId: Number(given), holding };
  return { congressId: chosen ?? anyId, holding };
}

/** When the department's cases are in more than one congress: a link to each, with its open cases. */
function congressLinks(holding, congressId) {
  if (holding.length < 2) return null;
  return h('nav', { class: 'department-congresses', 'aria-label': t('department.congresses') },
    h('ul', {}, holding.map((c) => h('li', {}, c.congress_id === congressId
      ? h('strong', { 'aria-current': 'page', class: 'data-text' }, c.name)
      : h('a', { href: `/department?congress=${c.congress_id}` }, c.name),
    ' ', h('span', { class: 'hint' }, t('department.open_cases', { n: c.open_cases, total: c.cases }))))));
}

async function main() {
  const me = await fetchMe().catch(() => ({ role: 'observer' }));
  if (me.role !== 'department') {
    go('/sign-in');
    return;
  }
  mountHeader($('top'), { title: () => (me.name ? data(me.name) : t('department.title')), subtitle: () => t('department.title'),
    user: { name: me.name, csrf: me.csrf_token } });
  const { congressId, holding } = await chooseCongress(me);
  function render() {
    $('loading').hidden = true;
    clear($('intro'), h('h2', {}, t('department.cases')), h('p', { id: 'department-intro' }, t('department.intro')),
      congressLinks(holding, congressId));
  }
  let cases = null;
  if (congressId !== null) {
    const { store, live } = connect({ congressId });
    cases = mountDepartmentCases($('slot-cases'), live);
    let started = false;
    store.subscribe((change) => {
      if (change.kind === 'hello' && !started) {
        started = true;
        cases.refresh();
      }
    });
  }
  onLanguage(() => {
    render();
    cases?.render();
  });
  render();
}

clear($('loading'), t('common.loading'));
main();
