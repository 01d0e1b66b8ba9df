/**
 * Converse elements redrawn for WCAG 2.1 AA and for a plain chat, used by both plugins.
 * Call from a plugin's initialize(), before Converse registers its elements with the browser.
 */
import { html, nothing, u } from '../converse.js';

/**
 * Avatars: Converse colours initials with a per-name hue as an inline !important style,
 * which fails contrast for some names. Ours are initials in one AA colour pair, hidden
 * from assistive technology (the name is always written next to them).
 */
export function redrawAvatars (api) {
    const Avatar = api.elements.registry['converse-avatar'];
    api.elements.define('converse-avatar', class extends Avatar {
        render () {
            const size = `width: ${this.width}px; height: ${this.height}px; line-height: ${this.height}px;
                          font-size: ${Math.round(this.width / 2)}px;`;
            return html`<div class="avatar-initials idchat-avatar" style="${size}" aria-hidden="true"
                >${this.getInitials(this.name)}</div>`;
        }
    });
}

/**
 * The occupants list puts its <li> inside a custom element inside the <ul>: the custom
 * element becomes the list item, the inner <li> only a box.
 */
export function repairOccupantList (api) {
    const Item = api.elements.registry['converse-muc-occupant-list-item'];
    if (!Item) return;
    api.elements.define('converse-muc-occupant-list-item', class extends Item {
        connectedCallback () {
            super.connectedCallback();
            this.setAttribute('role', 'listitem');
        }

        updated (changed) {
            super.updated?.(changed);
            this.querySelector(':scope > li')?.setAttribute('role', 'none');
        }
    });
}

/**
 * Converse keeps an "About Converse" dialog in the page (links out, words about XMPP):
 * neither client offers it, so it is not drawn at all.
 */
export function noAboutDialog (api) {
    const About = api.elements.registry['converse-about-modal'];
    if (!About) return;
    api.elements.define('converse-about-modal', class extends About {
        render () { return nothing; }
    });
}

/**
 * Messages are text and nothing else: no per-message menu (reactions, edit, retract,
 * copy, quote — each a tab stop per message), and the author's name opens no dialog.
 * Copying works as anywhere else on a page: select the text.
 */
export function plainMessages (api) {
    const Actions = api.elements.registry['converse-message-actions'];
    api.elements.define('converse-message-actions', class extends Actions {
        render () { return nothing; }
    });
    const Message = api.elements.registry['converse-chat-message'];
    api.elements.define('converse-chat-message', class extends Message {
        showUserModal (ev) { ev?.preventDefault?.(); }
    });
}

/**
 * The list of messages scrolls: a named region in the tab order, so that keyboard users
 * can scroll back through the conversation (WCAG 2.1.1). `t.messages_label` names it.
 */
export function scrollableMessages (api, t) {
    const Content = api.elements.registry['converse-muc-chat-content'];
    api.elements.define('converse-muc-chat-content', class extends Content {
        updated (changed) {
            super.updated?.(changed);
            const list = this.querySelector('.chat-content__messages');
            if (list && !list.hasAttribute('tabindex')) {
                list.setAttribute('tabindex', '0');
                list.setAttribute('role', 'region');
                list.setAttribute('aria-label', t.messages_label);
            }
        }
    });
}

/**
 * The message box: a labelled text area with a visible border and a send button with a
 * word on it. Enter sends, Shift+Enter makes a new line, and Tab leaves the box like it
 * leaves any other field (WCAG 2.1.2: Converse used Tab for nickname completion, which
 * trapped keyboard users). No nickname completion, no files by paste or drop.
 *
 * `t` gives `message_label`, `message_placeholder` and `send`.
 */
export function plainMessageForm (api, t) {
    const Form = api.elements.registry['converse-muc-message-form'];
    const BaseForm = Object.getPrototypeOf(Form.prototype); // Converse's MessageForm
    api.elements.define('converse-muc-message-form', class extends Form {
        initMentionAutoComplete () { /* no completion: Tab belongs to the browser */ }

        shouldAutoComplete () { return false; }

        onKeyDown (ev) {
            if (['Tab', 'ArrowUp', 'ArrowDown'].includes(ev.key)) return; // the browser's, not Converse's
            if (ev.key === 'Enter' && ev.isComposing) return;
            return BaseForm.onKeyDown.call(this, ev);
        }

        render () {
            if (!this.model) return nothing;
            const id = `idchat-message-${this.model.get('jid')}`;
            return html`
                <form class="chat-message-form idchat-message-form" @submit=${(ev) => this.onFormSubmitted(ev)}>
                    <label class="idchat-visually-hidden" for="${id}">${t.message_label}</label>
                    <textarea id="${id}" class="chat-textarea idchat-message-box" rows="2"
                              placeholder="${t.message_placeholder}"
                              .value=${this.model.get('draft') ?? ''}
                              @input=${growWithText}
                              @keydown=${(ev) => this.onKeyDown(ev)}
                              @keyup=${(ev) => this.onKeyUp(ev)}
                              @change=${(ev) => u.safeSave(this.model, { draft: ev.target.value })}></textarea>
                    <button type="submit" class="idchat-button idchat-send">${t.send}</button>
                </form>`;
        }
    });
}

/** Browsers without CSS field-sizing: let the box grow with its text (CSS caps the height). */
function growWithText (ev) {
    if (window.CSS?.supports('field-sizing', 'content')) return;
    const box = ev.target;
    box.style.height = 'auto';
    if (box.value) box.style.height = `${box.scrollHeight + 4}px`;
}
