// Staff: creating a vote (a draft): agenda item, title, questions (赞成/反对/弃权, election,
// rating), secret or named, hand-counted groups, closing by itself after some seconds.

import { choice, data, field, h, region } from './dom.js';
import { t, term } from './i18n.js';

let questionCounter = 0;

function questionEditor(kind, onRemove) {
  questionCounter += 1;
  const id = `q${questionCounter}`;
  const text = h('input', { type: 'text', id: `${id}-text`, required: true, class: 'q-text' });
  const extra = [];
  if (kind === 'election') {
    extra.push(field(t('votes.candidates'), h('textarea', { id: `${id}-candidates`, rows: 3, required: true, class: 'q-candidates' })));
    extra.push(field(t('votes.seats'), h('input', { type: 'number', id: `${id}-seats`, min: 1, value: 1, class: 'num-input q-seats' })));
  } else if (kind === 'rating') {
    extra.push(field(t('votes.scale'), h('textarea', { id: `${id}-scale`, rows: 3, class: 'q-scale', value: '称职\n基本称职\n不称职' })));
  }
  const kindLabel = { yes_no: t('votes.add_yes_no'), election: t('votes.add_election'), rating: t('votes.add_rating') }[kind];
  const editor = h('fieldset', { class: 'question-editor', dataset: { kind } },
    h('legend', {}, kindLabel.replace(/^[^：:]*[：:]\s*/, '')),
    field(t('votes.question_text'), text), extra,
    h('button', { type: 'button', class: 'small danger', on: { click: () => { editor.remove(); onRemove(); } } }, t('votes.remove_question')));
  return editor;
}

function readQuestion(editor) {
  const kind = editor.dataset.kind;
  const q = { kind, text: editor.querySelector('.q-text').value.trim() };
  const lines = (sel) => editor.querySelector(sel).value.split('\n').map((x) => x.trim()).filter(Boolean);
  if (kind === 'election') {
    q.candidates = lines('.q-candidates');
    q.seats = Number(editor.querySelector('.q-seats').value || 1);
  } else if (kind === 'rating') {
    q.scale = lines('.q-scale');
  }
  return q;
}

/** The create form and its parts that follow the state (agenda items, groups): { form, regions }. */
export function createVoteForm({ store, live }) {
  const itemSelect = h('select', { id: 'vote-item', required: true });
  const itemBox = h('div');
  const title = h('input', { type: 'text', id: 'vote-title', maxlength: 300 });
  const questions = h('div', { class: 'question-editors' });
  const secret = h('input', { type: 'checkbox', id: 'vote-secret' });
  const closesAfter = h('input', { type: 'number', id: 'vote-closes-after', min: 10, class: 'num-input' });
  const groupsBox = h('div');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const addButtons = ['yes_no', 'election', 'rating'].map((kind) => h('button', {
    type: 'button', class: 'small', id: `add-q-${kind}`,
    on: { click: () => { const ed = questionEditor(kind, () => {}); questions.append(ed); ed.querySelector('input')?.focus(); } },
  }, t(`votes.add_${kind}`)));
  questions.append(questionEditor('yes_no', () => {}));
  itemBox.append(field(t('votes.item'), itemSelect));
  const form = h('form', { class: 'card', id: 'vote-create', 'aria-labelledby': 'vote-create-h' },
    h('h3', { id: 'vote-create-h' }, t('votes.create')),
    itemBox,
    field(t('votes.vote_title'), title),
    h('fieldset', {}, h('legend', {}, t('votes.questions')), questions, h('div', { class: 'actions' }, addButtons)),
    h('label', { class: 'choice', for: secret.id }, secret, h('span', {}, t('votes.is_secret'))),
    groupsBox,
    field(t('votes.closes_after'), closesAfter),
    h('button', { type: 'submit', class: 'primary' }, t('votes.create')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const hand = [...groupsBox.querySelectorAll('input:checked')].map((x) => Number(x.value));
    const args = {
      agenda_item_id: Number(itemSelect.value), title: title.value.trim(),
      questions: [...questions.querySelectorAll('.question-editor')].map(readQuestion),
      is_secret: secret.checked, hand_count_groups: hand,
    };
    if (closesAfter.value) args.closes_after_seconds = Number(closesAfter.value);
    status.className = 'form-status';
    status.textContent = t('common.sending');
    try {
      await live.command('create_vote', args);
      status.className = 'form-status ok';
      status.textContent = t('votes.created');
      title.value = '';
    } catch (error) {
      status.className = 'form-status bad';
      status.textContent = t('common.error', { message: error.message });
    }
  });
  const regions = [
    region(itemSelect, () => store.state.agenda.map((i) => [i.id, i.title]), () => {
      const keep = itemSelect.value;
      const current = store.state.congress.current_agenda_item_id;
      return store.state.agenda.map((i) => h('option', { value: i.id, selected: keep ? String(i.id) === keep : i.id === current, class: 'data-text' }, `${term('agenda_kind', i.kind)} · ${i.title}`));
    }),
    region(groupsBox, () => store.state.attendance.groups.map((g) => [g.group_id, g.name]), () => h('fieldset', { class: 'choices inline' },
      h('legend', {}, t('votes.hand_count_groups')),
      store.state.attendance.groups.map((g) => choice('checkbox', 'hand-groups', g.group_id, data(g.name), { id: `hand-group-${g.group_id}` })))),
  ];
  return { form, regions };
}
