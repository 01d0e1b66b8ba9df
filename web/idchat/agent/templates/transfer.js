/**
 * The transfer control of a card (docs/protocol.md §12): a button, the inline form, the
 * waiting notice. Names and labels are lit text bindings, never markup.
 */
import { html, nothing } from '../../converse.js';

export function tplTransfer (t, c, el, topics) {
    if (c.transfer === 'sending') return html`<p class="idchat-transfer__pending" role="status" tabindex="-1">${t.sending}</p>`;
    if (c.transfer === 'pending') {
        return html`<p class="idchat-transfer__pending" role="status" tabindex="-1">${t.pending(c.transfer_to || t.colleague)}</p>
            <button type="button" class="idchat-button idchat-button--secondary" data-action="transfer-withdraw"
                    @click=${() => el.withdraw()}>${t.withdraw}</button>`;
    }
    if (!el.open) {
        return html`<button type="button" class="idchat-button idchat-button--secondary" data-action="transfer"
                            @click=${() => el.show()}>${t.transfer}</button>`;
    }
    const id = `idchat-transfer-${c.id}`;
    return html`
        <form class="idchat-transfer" aria-labelledby="${id}-title" @submit=${(ev) => el.submit(ev)}>
            <h3 id="${id}-title" class="idchat-transfer__title">${t.transfer_title}</h3>
            <fieldset class="idchat-transfer__mode">
                <legend>${t.transfer_to}</legend>
                <label><input type="radio" name="transfer-mode" value="colleague" ?checked=${el.mode === 'colleague'}
                              @change=${() => el.choose('colleague')}> ${t.to_colleague}</label>
                <label><input type="radio" name="transfer-mode" value="queue" ?checked=${el.mode === 'queue'}
                              @change=${() => el.choose('queue')}> ${t.to_queue}</label>
            </fieldset>
            ${el.mode === 'colleague' ? tplColleagues(t, el, id) : tplTopics(t, c, topics, id)}
            <label for="${id}-note">${t.note}</label>
            <textarea id="${id}-note" name="transfer-note" rows="3" maxlength="500"
                      aria-describedby="${id}-note-hint"></textarea>
            <p id="${id}-note-hint" class="idchat-transfer__hint">${t.note_hint}</p>
            ${el.error ? html`<p class="idchat-transfer__error" role="alert" tabindex="-1">${el.error}</p>` : nothing}
            <div class="idchat-transfer__actions">
                <button type="submit" class="idchat-button" data-action="transfer-send">${t.send}</button>
                <button type="button" class="idchat-button idchat-button--secondary" data-action="transfer-cancel"
                        @click=${() => el.cancel()}>${t.cancel}</button>
            </div>
        </form>`;
}

function tplColleagues (t, el, id) {
    if (el.colleagues === null) return html`<p role="status">${t.colleagues_loading}</p>`;
    if (el.loadFailed) return html`<p role="alert">${t.colleagues_failed}</p>`;
    if (!el.colleagues.length) return html`<p role="status">${t.colleagues_none}</p>`;
    const first = el.colleagues.find((c) => c.free > 0)?.jid;
    return html`
        <label for="${id}-colleague">${t.colleague}</label>
        <select id="${id}-colleague" name="transfer-colleague">
            ${el.colleagues.map((c) => html`<option value="${c.jid}" ?disabled=${c.free <= 0}
                ?selected=${c.jid === first}>${t.colleague_free(c.nick, c.free)}</option>`)}
        </select>`;
}

function tplTopics (t, c, topics, id) {
    const firstOther = topics.find((p) => p.tag !== c.purpose)?.tag;
    return html`
        <label for="${id}-topic">${t.topic}</label>
        <select id="${id}-topic" name="transfer-topic">
            ${topics.map((p) => html`<option value="${p.tag}" ?selected=${p.tag === firstOther}>${p.label}</option>`)}
        </select>`;
}

/** On the card of a chat that was handed on: by whom, and their note (agents only). */
export function tplHandover (t, c) {
    if (!c.transferred_by && !c.transfer_note) return nothing;
    return html`
        <div class="idchat-card__handover">
            ${c.transferred_by ? html`<p>${t.handed_over_by}: <strong>${c.transferred_by}</strong></p>` : nothing}
            ${c.transfer_note ? html`<p class="idchat-card__note"><span>${t.handover_note}:</span>
                <span class="idchat-card__note-text">${c.transfer_note}</span></p>` : nothing}
        </div>`;
}
