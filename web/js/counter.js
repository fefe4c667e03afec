// Character counters: a text box shows, as people type, how many characters it holds against its
// limit ("86 / 100 字"), and says plainly when it is over ("1600 / 1000 字 · 超出 600 字，请删减").
// Nothing is cut: the box has no maxlength, so a long paste stays whole for the writer to shorten,
// and the form refuses it in words instead of sending a text the browser silently truncated.
// Characters are counted as the server counts them (code points: an emoji is one, not two).

import { h, uid } from './dom.js';
import { t } from './i18n.js';

export function charCount(text) {
  return [...(text || '')].length;
}

/**
 * Count `control` against `max`. Returns {element, update, isOver, refusal}: put `element` where
 * the count should show (it describes the control for screen readers); `refusal()` is the words
 * to show when a submit finds the text too long, or null.
 */
export function counter(control, max, { className = null } = {}) {
  control.removeAttribute('maxlength');
  control.dataset.counted = String(max);
  if (!control.id) control.id = uid('text');
  const element = h('span', { class: ['char-counter', className], id: `${control.id}-count` });
  const described = (control.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  if (!described.includes(element.id)) control.setAttribute('aria-describedby', [...described, element.id].join(' '));

  const isOver = () => charCount(control.value) > max;
  function update() {
    const n = charCount(control.value);
    const over = n - max;
    element.textContent = over > 0 ? t('counter.over', { n, max, over }) : t('counter.count', { n, max });
    element.classList.toggle('is-over', over > 0);
    element.classList.toggle('is-near', over <= 0 && n >= max * 0.9);
    control.classList.toggle('is-too-long', over > 0);
    if (over > 0) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  }
  function refusal() {
    const over = charCount(control.value) - max;
    return over > 0 ? t('counter.too_long', { max, over }) : null;
  }
  control.addEventListener('input', update);
  update();
  return { element, update, isOver, refusal };
}

/**
 * Counters for the boxes of a form that another module builds and rebuilds: `limits` maps a
 * control's id to its limit; each such control found under `root`, now or after a rebuild, gets
 * its counter right after it (once: a control already counted is left alone).
 */
export function countFields(root, limits) {
  function attach() {
    for (const [id, max] of Object.entries(limits)) {
      const control = root.querySelector(`#${CSS.escape(id)}`);
      if (!control || control.dataset.counted) continue;
      control.after(counter(control, max).element);
    }
  }
  new MutationObserver(attach).observe(root, { childList: true, subtree: true });
  attach();
}
