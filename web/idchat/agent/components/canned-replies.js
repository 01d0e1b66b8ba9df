/**
 * Canned replies in the agent's message box (docs/protocol.md §3a, docs/accessibility.md).
 * Typing `/` and a few letters opens a list of matching replies under the box (the ARIA
 * listbox pattern: the focus stays in the box, aria-activedescendant follows the arrow keys);
 * Enter or Tab inserts the chosen one, Escape closes the list. The "Canned reply" button does
 * the same for mouse users: it types the `/` and opens the list with every reply of the topic.
 * The reply is inserted, not sent: the agent reads it, may change it, and sends it.
 */
import { html, nothing, stx } from '../../converse.js';
import { NS } from '../../shared/protocol.js';
import { fillReply, insertReply, matchReplies, parseReplies, slashQuery } from '../canned.js';
import { chatOfRoom } from '../state.js';

let known = []; // the replies of the topics file, fetched once per connection

/** §3a: ask the component for the canned replies; the console works on without them. */
export async function loadReplies (api, component) {
    const answer = await api.sendIQ(stx`<iq type="get" to="${component}" xmlns="jabber:client">
        <replies xmlns="${NS}"/></iq>`, 10000, false);
    known = answer?.getAttribute('type') === 'result' ? parseReplies(answer) : known;
    // Open message forms draw their button now (none while there are no replies).
    document.querySelectorAll('converse-muc-message-form').forEach((form) => form.requestUpdate?.());
}

/** Redefine the room's message form (after plainMessageForm) with the suggestions. */
export function cannedReplies (api, t, lang) {
    const Form = api.elements.registry['converse-muc-message-form'];
    api.elements.define('converse-muc-message-form', class extends Form {
        canned = { open: false, items: [], active: 0, start: 0, dismissed: null };

        connectedCallback () {
            super.connectedCallback();
            if (this.cannedListening) return;
            this.cannedListening = true;
            this.addEventListener('input', (ev) => { if (ev.target.matches?.('textarea')) this.suggest(); });
            this.addEventListener('focusout', (ev) => {
                if (!this.contains(ev.relatedTarget)) this.closeSuggestions();
            });
        }

        get box () { return this.querySelector('textarea.chat-textarea'); }

        get ids () {
            const base = `idchat-canned-${(this.model?.get('jid') || '').replace(/[^a-z0-9]/gi, '')}`;
            return { list: `${base}-list`, option: (i) => `${base}-option-${i}`, status: `${base}-status` };
        }

        /** What matches the `/word` before the caret, for this chat's topic. */
        suggest ({ all = false } = {}) {
            const box = this.box;
            const found = box && slashQuery(box.value, box.selectionStart);
            if (!found || (found.start === this.canned.dismissed && !all)) {
                if (!found) this.canned.dismissed = null;
                return this.closeSuggestions();
            }
            const card = chatOfRoom(this.model.get('jid'));
            const items = matchReplies(known, { query: found.query, purpose: card?.get('purpose') || '', lang });
            this.canned = { ...this.canned, open: items.length > 0, items, active: 0, start: found.start, dismissed: null };
            this.requestUpdate();
        }

        closeSuggestions () {
            if (!this.canned.open) return;
            this.canned = { ...this.canned, open: false, items: [] };
            this.requestUpdate();
        }

        onKeyDown (ev) {
            const c = this.canned;
            if (c.open && !ev.isComposing) {
                if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
                    ev.preventDefault();
                    const step = ev.key === 'ArrowDown' ? 1 : c.items.length - 1;
                    this.canned = { ...c, active: (c.active + step) % c.items.length };
                    this.requestUpdate();
                    return;
                }
                if (ev.key === 'Enter' || ev.key === 'Tab') {
                    ev.preventDefault();
                    this.insert(c.active);
                    return;
                }
                if (ev.key === 'Escape') {
                    ev.preventDefault();
                    ev.stopPropagation();
                    this.canned = { ...c, open: false, items: [], dismissed: c.start };
                    this.requestUpdate();
                    return;
                }
            }
            return super.onKeyDown(ev);
        }

        /** Put the reply in place of the `/word`; the agent sends it when ready. */
        insert (index) {
            const reply = this.canned.items[index];
            const box = this.box;
            if (!reply || !box) return;
            const text = fillReply(reply.text, this.placeholders());
            const { value, caret } = insertReply(box.value, this.canned.start, box.selectionStart, text);
            box.value = value;
            box.setSelectionRange(caret, caret);
            box.dispatchEvent(new Event('change', { bubbles: true })); // Converse keeps it as the draft
            this.canned = { ...this.canned, open: false, items: [], dismissed: null };
            this.requestUpdate();
            box.focus();
        }

        /** What {agent} and {topic} stand for in this room: the agent's nick, the topic's label. */
        placeholders () {
            const card = chatOfRoom(this.model.get('jid'));
            return { agent: this.model.get('nick') || '', topic: card?.get('purpose_label') || '' };
        }

        /** The button: a `/` at the caret (after a space when needed) and every reply. */
        openFromButton () {
            const box = this.box;
            if (!box) return;
            const at = box.selectionStart ?? box.value.length;
            const before = box.value.slice(0, at);
            const slash = before && !/\s$/.test(before) ? ' /' : '/';
            box.value = before + slash + box.value.slice(at);
            box.setSelectionRange(at + slash.length, at + slash.length);
            box.focus();
            this.suggest({ all: true });
        }

        updated (changed) {
            super.updated?.(changed);
            const box = this.box;
            if (!box) return;
            const { open, active } = this.canned;
            box.toggleAttribute('aria-autocomplete', known.length > 0); // suggestions only with replies
            if (known.length) box.setAttribute('aria-autocomplete', 'list');
            if (open) {
                box.setAttribute('aria-controls', this.ids.list);
                box.setAttribute('aria-activedescendant', this.ids.option(active));
                this.querySelector(`#${this.ids.option(active)}`)?.scrollIntoView?.({ block: 'nearest' });
            } else {
                box.removeAttribute('aria-controls');
                box.removeAttribute('aria-activedescendant');
            }
        }

        render () {
            const form = super.render();
            if (!this.model) return form;
            const fill = this.canned.open ? this.placeholders() : {};
            return html`${form}${tplSuggestions(t, this.canned, this.ids, lang, fill, this)}`;
        }
    });
}

function tplSuggestions (t, c, ids, lang, fill, el) {
    if (!known.length) return nothing; // no canned replies configured: nothing to show
    return html`
        <div class="idchat-canned">
            <p id="${ids.status}" class="idchat-visually-hidden" role="status">${c.open ? t.canned_found(c.items.length) : ''}</p>
            ${c.open ? html`
                <ul id="${ids.list}" class="idchat-canned__list" role="listbox" aria-label="${t.canned_label}">
                    ${c.items.map((r, i) => html`
                        <li id="${ids.option(i)}" role="option" class="idchat-canned__option"
                            aria-selected="${i === c.active ? 'true' : 'false'}"
                            @mousedown=${(ev) => ev.preventDefault()} @click=${() => el.insert(i)}>
                            <span class="idchat-canned__key">/${r.key}</span>
                            ${r.lang !== lang ? html`<span class="idchat-canned__lang" lang="${r.lang}">${r.lang.toUpperCase()}</span>` : nothing}
                            <span class="idchat-canned__text" lang="${r.lang}">${fillReply(r.text, fill)}</span>
                        </li>`)}
                </ul>` : nothing}
            <button type="button" class="idchat-button idchat-button--secondary idchat-canned__button"
                    @click=${() => el.openFromButton()}>${t.canned_button}</button>
        </div>`;
}
