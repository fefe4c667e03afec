// The department's page (承办部门): signs in and says where the assigned proposals will appear.
// The proposals feature fills <section data-slot="department-cases"> with the cases and replies.

import { go, me as fetchMe } from './api.js';
import { mountHeader, onLanguage } from './chrome.js';
import { clear, h } from './dom.js';
import { t } from './i18n.js';
import { resolveCongressId } from './observer.js';
import { mountDepartmentCases } from './proposals-department.js';
import { connect } from './state.js';

const $ = (id) => document.getElementById(id);

async function main() {
  const me = await fetchMe().catch(() => ({ role: 'observer' }));
  if (me.role !== 'department') {
    go('/sign-in');
    return;
  }
  mountHeader($('top'), { title: () => me.name || t('department.title'), subtitle: () => t('department.title'),
    user: { name: me.name, csrf: me.csrf_token } });
  function render() {
    $('loading').hidden = true;
    clear($('intro'), h('h2', {}, t('department.cases')), h('p', { id: 'department-intro' }, t('department.intro')));
  }
  const congressId = await resolveCongressId();
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
