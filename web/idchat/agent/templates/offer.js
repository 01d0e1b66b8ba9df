/**
 * One offer: what the chat is about, how long the citizen waits, how long it stands.
 */
import { html, nothing } from '../../converse.js';
import { transferTexts } from '../transfer-texts.js';

export function tplOffer (t, o, left, el) {
    const titleId = `idchat-offer-${o.id}`;
    return html`
        <article class="idchat-offer" aria-labelledby="${titleId}">
            <h3 id="${titleId}" class="idchat-offer__title">${t.offer_title(o.purpose_label || o.purpose)}</h3>
            ${o.from_agent ? html`<p class="idchat-offer__from">${transferTexts(document.documentElement.lang).offer_from(o.from_agent)}</p>` : nothing}
            <p class="idchat-offer__waiting">${t.waiting(o.waiting + el.elapsed())}</p>
            <p class="idchat-offer__countdown">
                <span>${t.countdown(left)}</span>
                <progress max="${o.timeout}" .value=${left} aria-hidden="true"></progress>
            </p>
            <div class="idchat-offer__actions">
                <button type="button" class="idchat-button" data-action="accept"
                        @click=${() => el.accept()}>${t.accept}</button>
                <button type="button" class="idchat-button idchat-button--secondary" data-action="decline"
                        @click=${() => el.decline()}>${t.decline}</button>
            </div>
        </article>`;
}
