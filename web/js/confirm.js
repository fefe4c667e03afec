// Asking first, in the page: a modal <dialog> that names what an irreversible step will do
// (开始表决, 截止并计票, 公布结果, 重新表决), with 取消 and a confirm button named for the step.
// Never window.confirm: a native dialog freezes the page, its live figures and its connection.
//
// Focus starts on 取消 (the harmless choice; Enter does nothing irreversible), Escape cancels,
// the browser keeps Tab inside the dialog and gives focus back to the button that opened it.

import { clear, h, uid } from './dom.js';
import { t } from './i18n.js';

/**
 * askFirst({ title, body, confirmLabel, option, watch, id }) -> Promise<null | { option: boolean }>
 *   body()   the words and figures, as DOM nodes; built again each time `watch` calls back, so
 *            figures that move while the dialog is open (已投, 实到) stay current.
 *   watch(rerender) -> unsubscribe   (e.g. `(fn) => store.subscribe(fn)`)
 *   option   { label, checked }: a checkbox in the dialog; its state on confirming is returned.
 * Resolves null when cancelled (取消, Escape).
 */
export function askFirst({ title, body, confirmLabel, option = null, watch = null, id = null }) {
  return new Promise((resolve) => {
    const titleId = uid('confirm-title');
    const content = h('div', { class: 'confirm-body', id: uid('confirm-body') });
    const optionInput = option ? h('input', { type: 'checkbox', id: uid('confirm-option'), checked: option.checked }) : null;
    const cancel = h('button', { type: 'button', class: 'confirm-cancel', value: 'cancel' }, t('common.cancel'));
    const ok = h('button', { type: 'button', class: 'primary confirm-ok', value: 'ok' }, confirmLabel);
    const dialog = h('dialog', { class: 'confirm-dialog', id, 'aria-labelledby': titleId, 'aria-describedby': content.id },
      h('h2', { id: titleId, class: 'confirm-title' }, title),
      content,
      optionInput ? h('label', { class: 'choice confirm-option', for: optionInput.id }, optionInput, h('span', {}, option.label)) : null,
      h('div', { class: 'actions confirm-actions' }, cancel, ok));

    const render = () => clear(content, body());
    render();
    const unwatch = watch ? watch(render) : null;
    cancel.addEventListener('click', () => dialog.close('cancel'));
    ok.addEventListener('click', () => dialog.close('ok'));
    // Escape closes a modal dialog with returnValue left '' (not 'ok'): a cancel.
    dialog.addEventListener('close', () => {
      unwatch?.();
      dialog.remove();
      resolve(dialog.returnValue === 'ok' ? { option: optionInput ? optionInput.checked : false } : null);
    }, { once: true });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
