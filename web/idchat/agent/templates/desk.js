/**
 * Templates of the agent's desk: availability, capacity, notices and the offers list.
 */
import { html, nothing } from '../../converse.js';

const CAPACITIES = [1, 2, 3, 4, 5];

export function tplDesk (t, s, el) {
    return html`
        <section class="idchat-desk" aria-labelledby="idchat-desk-title">
            <h2 id="idchat-desk-title" class="idchat-desk__title">${t.desk_label}</h2>
            ${s.connected ? tplControls(t, s, el) : html`<p class="idchat-desk__hint">${t.not_connected}</p>`}
            <div class="idchat-desk__notice" role="status" aria-live="polite">
                ${s.notice ? html`<p>${s.notice}</p>` : nothing}
            </div>
        </section>
        ${s.connected ? tplOffers(t, el) : nothing}
        <div class="idchat-visually-hidden" role="alert">${el.alert ? html`<p>${el.alert}</p>` : nothing}</div>`;
}

function tplControls (t, s, el) {
    if (s.forbidden) return html`<p class="idchat-desk__forbidden"><strong>${t.forbidden}</strong></p>`;
    const capacities = CAPACITIES.includes(s.max_chats) ? CAPACITIES : [...CAPACITIES, s.max_chats].sort((a, b) => a - b);
    return html`
        <div class="idchat-desk__controls">
            <label class="idchat-switch">
                <input type="checkbox" role="switch" data-action="availability"
                       .checked=${s.available} @change=${(ev) => el.setAvailable(ev.target.checked)}>
                <span class="idchat-switch__track" aria-hidden="true"></span>
                <span>${t.available}</span>
            </label>
            <span class="idchat-desk__capacity">
                <label for="idchat-max-chats">${t.max_chats}</label>
                <select id="idchat-max-chats" data-action="max-chats"
                        @change=${(ev) => el.setMaxChats(Number(ev.target.value))}>
                    ${capacities.map((n) => html`<option value="${n}" ?selected=${n === s.max_chats}>${n}</option>`)}
                </select>
            </span>
            <p class="idchat-desk__state ${s.available ? 'is-available' : 'is-away'}">
                ${s.available ? t.available_on : t.available_off}
                <span class="idchat-desk__load">${t.load(s.active, s.max_chats)}</span>
            </p>
        </div>`;
}

function tplOffers (t, el) {
    return html`
        <section class="idchat-offers" aria-labelledby="idchat-offers-title">
            <h2 id="idchat-offers-title" class="idchat-offers__title">${t.offers_label}</h2>
            ${el.offers.length
                ? html`<ul class="idchat-offers__list">
                    ${el.offers.map((offer) => html`<li><idchat-offer .model=${offer}></idchat-offer></li>`)}</ul>`
                : html`<p class="idchat-offers__none">${t.no_offers}</p>`}
        </section>`;
}
