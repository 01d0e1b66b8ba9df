/**
 * The identity card of one chat (docs/protocol.md §5). Attribute values are untrusted:
 * they are lit text bindings only, never markup. "Verified" and "not verified" differ in
 * words, colour, icon and border, so no one has to rely on colour alone.
 */
import { html, nothing, dayjs } from '../../converse.js';
import { methodLabel } from '../../shared/auth.js';

const ICONS = { verified: '✔', not_verified: '⚠', pending: '…', waiting: '…' };

/** `label`: what the agent calls this chat (the verified name, else a short reference). */
export function tplIdentityCard (t, c, el, label) {
    const status = c.status || 'waiting';
    return html`
        <section class="idchat-card idchat-card--${status}" aria-labelledby="idchat-card-${c.id}">
            <h2 class="idchat-card__title" id="idchat-card-${c.id}">${label}
                <span class="idchat-visually-hidden">– ${t.card_label}</span></h2>
            <div class="idchat-card__head">
                <p class="idchat-card__purpose">${t.purpose}: <strong>${c.purpose_label || c.purpose}</strong></p>
                <p class="idchat-badge idchat-badge--${status}" data-status="${status}">
                    <span aria-hidden="true">${ICONS[status]}</span> ${t.status[status]}</p>
            </div>
            <p class="idchat-card__explain">${t.status_explain[status]}</p>
            ${tplAttributes(t, c, status)}
            ${tplProvenance(t, c, status)}
            ${tplAuth(t, c, el, status)}
            <div class="idchat-card__actions">${tplEnd(t, c, el)}</div>
        </section>`;
}

function tplAttributes (t, c, status) {
    if (status === 'pending' || status === 'waiting') return nothing;
    if (!c.attributes?.length) return html`<p>${t.no_attributes}</p>`;
    return html`
        <dl class="idchat-card__attributes">
            ${c.attributes.map((a) => html`
                <div class="idchat-card__attribute" data-attribute="${a.name}">
                    <dt>${t.attribute_labels[a.name] || a.label || a.name}</dt>
                    <dd>${breakable(a.value)}</dd>
                </div>`)}
        </dl>`;
}

/**
 * Long unbroken values (e-mail addresses, web addresses) may wrap after '@', '.', '/' or
 * '-' rather than anywhere: "juliet@" / "capulet.lit", not "juliet@capu" / "let.lit".
 */
function breakable (value) {
    const text = String(value ?? '');
    if (!/\S{16,}/.test(text)) return text;
    return text.split(/(?<=[@./\-_])/).map((part, i) => (i ? html`<wbr>${part}` : part));
}

function tplProvenance (t, c, status) {
    if (status === 'pending' || status === 'waiting') return nothing;
    const when = c.verified_at && dayjs(c.verified_at).isValid() ? dayjs(c.verified_at).format('DD-MM-YYYY HH:mm:ss') : '';
    return html`
        <p class="idchat-card__provenance">
            ${c.source ? html`<span>${t.source}: ${t.sources[c.source] ?? c.source}</span>` : nothing}
            ${when ? html`<span>${status === 'verified' ? t.verified_at : t.checked_at}: <time datetime="${c.verified_at}">${when}</time></span>` : nothing}
        </p>`;
}

/**
 * §11 asking the citizen to log in: the button, the choice of method, the wait, and how
 * it ended. Offered for every chat (a verified card may lack what the topic needs), most
 * visibly when the card is not verified.
 */
function tplAuth (t, c, el, status) {
    if (status === 'waiting' || !c.auth_offered) return nothing;
    const auth = c.auth ?? {};
    const method = methodLabel(auth.method);
    let body;
    if (auth.state === 'busy') {
        body = html`<p role="status">${t.auth_busy}</p>`;
    } else if (auth.state === 'choosing') {
        body = auth.methods?.length
            ? html`<form data-action="auth-form" @submit=${(e) => { e.preventDefault(); el.requestAuth(new FormData(e.target).get('method')); }}>
                <fieldset><legend>${t.auth_choose}</legend>
                    ${auth.methods.map((tag, i) => html`<label><input type="radio" name="method" value="${tag}" ?checked=${i === 0}>
                        ${methodLabel(tag)}</label>`)}
                </fieldset>
                <button type="submit" class="idchat-button" data-action="auth-send">${t.auth_send}</button>
                <button type="button" class="idchat-button idchat-button--secondary" data-action="auth-close"
                        @click=${() => el.closeAuth()}>${t.auth_cancel}</button>
              </form>`
            : html`<p>${t.auth_none}</p>`;
    } else if (auth.state === 'requested') {
        body = html`<p role="status">${t.auth_waiting(method)}</p>
            <button type="button" class="idchat-button idchat-button--secondary" data-action="auth-withdraw"
                    @click=${() => el.withdrawAuth()}>${t.auth_withdraw}</button>`;
    } else {
        const outcome = auth.state === 'error' ? t.auth_errors[auth.error] ?? t.auth_errors.other
            : t.auth_outcome[auth.state]?.(method);
        body = html`${outcome ? html`<p role="status" data-auth="${auth.state}">${outcome}</p>` : nothing}
            <button type="button" class="idchat-button ${status === 'verified' ? 'idchat-button--secondary' : ''}"
                    data-action="auth-ask" @click=${() => el.askAuth()}>${status === 'verified' ? t.auth_ask_again : t.auth_ask}</button>`;
    }
    return html`<div class="idchat-card__auth" data-auth-state="${auth.state ?? ''}">${body}</div>`;
}

function tplEnd (t, c, el) {
    if (el.confirming) {
        return html`
            <span class="idchat-confirm" role="group" aria-label="${t.end}">
                <span>${t.end_confirm}</span>
                <button type="button" class="idchat-button idchat-button--danger" data-action="end-yes"
                        @click=${() => el.end()}>${t.end_yes}</button>
                <button type="button" class="idchat-button idchat-button--secondary" data-action="end-no"
                        @click=${() => el.cancel()}>${t.end_no}</button>
            </span>`;
    }
    return html`
        ${c.end_failed ? html`<span role="alert">${t.end_failed}</span>` : nothing}
        <button type="button" class="idchat-button idchat-button--secondary" data-action="end"
                @click=${() => el.confirm()}>${t.end}</button>`;
}
