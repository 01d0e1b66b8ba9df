/**
 * Templates of the agent's desk: signing in and out, a supervisor's choice of view,
 * availability and capacity, the agent's chats (open and ended) and the standing offers.
 */
import { html, nothing } from '../../converse.js';
import { chatLabel } from '../state.js';

const CAPACITIES = [1, 2, 3, 4, 5];

export function tplDesk (t, s, el) {
    if (s.signin !== 'in') return tplSignIn(t, s, el);
    return html`
        <section class="idchat-desk" aria-labelledby="idchat-desk-title">
            <div class="idchat-account">
                <p class="idchat-account__name">${t.signed_in_as(s.me)}</p>
                <button type="button" class="idchat-button idchat-button--secondary" data-action="logout"
                        @click=${() => el.logout()}>${t.logout}</button>
            </div>
            ${s.supervisor === 'yes' ? tplViews(t, s, el) : nothing}
            <h2 id="idchat-desk-title" class="idchat-desk__title">${t.desk_label}</h2>
            ${s.connected ? tplControls(t, s, el) : nothing}
            <div class="idchat-desk__notice" role="status" aria-live="polite">
                ${s.reconnecting ? html`<p class="idchat-desk__problem">${t.reconnecting}</p>` : nothing}
                ${s.notice ? html`<p>${s.notice}</p>` : nothing}
            </div>
        </section>
        ${s.connected ? tplOffers(t, el) : nothing}
        ${tplChats(t, s, el)}
        <div class="idchat-visually-hidden" role="alert">${el.alert ? html`<p>${el.alert}</p>` : nothing}</div>`;
}

/** The console's own sign-in: plain labels, and in words what went wrong. */
function tplSignIn (t, s, el) {
    const busy = ['signing-in', 'resuming'].includes(s.signin);
    return html`
        <section class="idchat-signin" aria-labelledby="idchat-signin-title">
            <h2 id="idchat-signin-title" class="idchat-signin__title">${t.login_title}</h2>
            <div class="idchat-signin__feedback" role="alert">
                ${s.signin_error ? html`<p class="idchat-signin__error">${t.login_failed[s.signin_error]}</p>` : nothing}
            </div>
            ${busy ? html`<p class="idchat-signin__busy" role="status">${s.signin === 'resuming' ? t.resuming : t.logging_in}</p>` : nothing}
            ${s.oidc ? tplProviderSignIn(t, busy) : tplPasswordForm(t, s, el, busy)}
        </section>`;
}

/** agents.mode = "oidc": the identity provider asks who it is (and for MFA). */
function tplProviderSignIn (t, busy) {
    return html`
        <p ?hidden=${busy}>${t.login_oidc_hint}</p>
        <p ?hidden=${busy}><a class="idchat-button" href="/agent/signin" data-action="login-oidc">${t.login_oidc}</a></p>`;
}

function tplPasswordForm (t, s, el, busy) {
    return html`
            <form class="idchat-signin__form" ?hidden=${busy} @submit=${(ev) => el.submitLogin(ev)}>
                <p class="idchat-field">
                    <label for="idchat-username">${t.username}</label>
                    <input id="idchat-username" name="username" type="text" autocomplete="username"
                           autocapitalize="none" spellcheck="false" required
                           aria-invalid="${s.signin_error === 'credentials' ? 'true' : 'false'}">
                </p>
                <p class="idchat-field">
                    <label for="idchat-password">${t.password}</label>
                    <input id="idchat-password" name="password" type="password" autocomplete="current-password" required
                           aria-invalid="${s.signin_error === 'credentials' ? 'true' : 'false'}">
                </p>
                <button type="submit" class="idchat-button" data-action="login">${t.login}</button>
            </form>`;
}

/** A supervisor's choice of what the main area shows: their own chats or the team overview. */
function tplViews (t, s, el) {
    return html`
        <nav class="idchat-views" aria-label="${t.view_label}">
            <button type="button" class="idchat-view-button" data-action="view-chats" aria-pressed="${s.view === 'chats'}"
                    @click=${() => el.showView('chats')}>${t.view_chats}</button>
            <button type="button" class="idchat-view-button" data-action="view-overview" aria-pressed="${s.view === 'overview'}"
                    @click=${() => el.showView('overview')}>${t.view_overview}</button>
        </nav>`;
}

function tplControls (t, s, el) {
    if (s.forbidden && s.supervisor === 'yes') return html`<p class="idchat-desk__supervisor">${t.supervisor_only}</p>`;
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

/** The agent's chats: open ones (name or reference, topic, unread) and ended ones. */
function tplChats (t, s, el) {
    const open = el.cards;
    const over = el.ended;
    return html`
        <section class="idchat-chats" aria-labelledby="idchat-chats-title">
            <h2 id="idchat-chats-title" class="idchat-chats__title">${t.chats_label}</h2>
            ${open.length || over.length
                ? html`<ul class="idchat-chats__list">
                    ${open.map((card) => tplChatItem(t, s, el, card.id, chatLabel(card, t), card.get('purpose_label'),
                                                     card.get('unread') || 0, false))}
                    ${over.map((e) => tplChatItem(t, s, el, e.id, e.get('label'), e.get('purpose_label'), 0, true))}
                  </ul>`
                : html`<p class="idchat-chats__none">${t.no_chats}</p>`}
        </section>`;
}

function tplChatItem (t, s, el, id, label, purpose, unread, isEnded) {
    const current = s.selected === id;
    return html`
        <li>
            <button type="button" class="idchat-chat ${current ? 'is-current' : ''} ${isEnded ? 'is-ended' : ''}"
                    data-chat="${id}" aria-current="${current ? 'true' : 'false'}" @click=${() => el.select(id)}>
                <span class="idchat-chat__label">${label}</span>
                ${purpose ? html`<span class="idchat-chat__purpose">${purpose}</span>` : nothing}
                ${isEnded ? html`<span class="idchat-chat__badge idchat-chat__badge--ended">${t.chat_ended_badge}</span>` : nothing}
                ${unread ? html`<span class="idchat-chat__badge idchat-chat__badge--unread">${t.unread(unread)}</span>` : nothing}
                ${current ? html`<span class="idchat-visually-hidden">(${t.current})</span>` : nothing}
            </button>
        </li>`;
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
