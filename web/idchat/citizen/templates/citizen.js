/**
 * Templates of the citizen's chat: what is known about their details, the status line,
 * the conversation (live, then read-only with "save" once it ended), the stop control.
 * Every value is interpolated by lit, so it is text, never markup.
 */
import { html, nothing } from '../../converse.js';
import { methodLabel } from '../../shared/auth.js';
import { openingParts } from '../../shared/opening.js';
import { tplTranscript } from '../../shared/transcript.js';

const OVER = ['ended', 'error', 'closed'];

/** Whether the citizen's details arrived (never their values); gone once the chat is over. */
export function tplDetails (t, s) {
    if (OVER.includes(s.phase)) return nothing;
    return html`<p class="idchat-details-status" data-details="${s.details}">${t.details[s.details] ?? ''}</p>`;
}

/** What the citizen's situation is: the polite live region. */
export function tplStatus (t, s) {
    return html`
        <div class="idchat-status idchat-status--${s.phase}" role="status" aria-live="polite" aria-atomic="true"
             tabindex="-1">
            ${tplConnection(t, s)}
            ${tplPhase(t, s)}
        </div>`;
}

function tplConnection (t, s) {
    if (s.connection === 'lost') return html`<p class="idchat-connection idchat-connection--lost">${t.lost}</p>`;
    if (s.connection === 'offline') return html`<p class="idchat-connection idchat-connection--offline">${t.offline}</p>`;
    if (s.connection === 'back') return html`<p class="idchat-connection idchat-connection--back">${t.back}</p>`;
    return nothing;
}

function tplPhase (t, s) {
    switch (s.phase) {
        case 'connecting':
            return html`<p>${t.connecting}</p>`;
        case 'claiming':
            return html`<p>${t.claiming}</p>${s.retrying ? html`<p>${t.retrying}</p>` : nothing}`;
        case 'queued':
            return html`
                ${s.interrupted ? html`<p class="idchat-notice">${t.interrupted}</p>` : nothing}
                ${s.transferred ? html`<p class="idchat-notice idchat-transferred">${t.transferred_queued}</p>` : nothing}
                <p class="idchat-queue"><strong>${s.position ? t.queued(s.position) : t.queued_unknown}</strong></p>
                ${s.wait !== undefined ? html`<p class="idchat-wait">${t.wait(s.wait)}</p>` : nothing}
                <p class="idchat-hint">${t.type_ahead}</p>`;
        case 'offered':
            return html`
                <p class="idchat-offered"><strong>${t.offered}</strong></p>
                <p class="idchat-hint">${t.offered_hint}</p>`;
        case 'no-agent':
            return html`
                ${s.interrupted ? html`<p class="idchat-notice">${t.interrupted}</p>` : nothing}
                <p><strong>${t.no_agent}</strong></p>
                <p class="idchat-alternative">${s.alternatives[s.lang] || s.alternatives.nl || t.no_agent_default}</p>
                <p class="idchat-hint">${t.no_agent_stay}</p>`;
        case 'closed':
            return tplClosed(t, s);
        case 'assigned':
            return html`<p class="idchat-assigned"><strong>${s.agent ? t.assigned(s.agent) : t.assigned_anonymous}</strong></p>
                ${s.transferred ? html`<p class="idchat-transferred">${t.transferred_assigned(s.agent)}</p>` : nothing}`;
        case 'ended':
            return html`
                <p><strong>${t.ended[s.by] ?? t.ended.system}</strong></p>
                <p>${t.ended_next}</p>
                ${tplHome(t, s)}
                ${s.transcript?.length ? html`<p>${t.ended_transcript}</p>` : nothing}`;
        case 'error':
            return html`<p><strong>${t[s.error] ?? t.failed}</strong></p>${tplHome(t, s)}`;
        default:
            return nothing;
    }
}

/** Outside opening hours: when the chat opens again, the alternative, and the way back. */
function tplClosed (t, s) {
    const opening = openingParts(s.opens, s.lang);
    return html`
        <p><strong>${t.closed}</strong></p>
        <p class="idchat-opens">${opening ? t.closed_opens(opening.day, opening.time) : t.closed_unknown}</p>
        <p class="idchat-alternative">${s.alternatives?.[s.lang] || s.alternatives?.nl || t.no_agent_default}</p>
        <p>${t.closed_next}</p>
        ${tplHome(t, s)}`;
}

/**
 * §11 the agent asks the citizen to log in: a clear link to the core (same tab; the login
 * brings them back to this chat) and a way to say no; afterwards, how it ended.
 */
export function tplAuth (t, s, el) {
    const auth = s.auth;
    if (!auth || OVER.includes(s.phase)) return nothing;
    const method = methodLabel(auth.method);
    if (auth.state === 'requested' && auth.url) {
        return html`
            <section class="idchat-auth idchat-auth--requested" aria-labelledby="idchat-auth-title" tabindex="-1">
                <h2 id="idchat-auth-title" class="idchat-auth__title">${t.auth_title}</h2>
                <p>${t.auth_asked(method)}</p>
                <p><a class="idchat-button idchat-auth__login" data-action="auth-login"
                      href="${auth.url}">${t.auth_login(method)}</a></p>
                <p><button type="button" class="idchat-button idchat-button--secondary" data-action="auth-decline"
                           @click=${() => el.declineAuth()}>${t.auth_decline}</button></p>
            </section>`;
    }
    const text = t.auth_outcome[auth.state];
    return text ? html`<p class="idchat-auth idchat-auth--${auth.state}" tabindex="-1">${text}</p>` : nothing;
}

/** The way back when a chat is over or cannot go on: the municipality's own page. */
function tplHome (t, s) {
    return s.home ? html`<p><a class="idchat-home" href="${s.home}">${t.home(s.municipality)}</a></p>` : nothing;
}

/** The mandatory way out: stop the chat and log out, with an inline confirmation. */
export function tplStop (t, s, el) {
    if (OVER.includes(s.phase)) return nothing;
    if (s.stopping) return html`<p class="idchat-stopping">${t.stopping}</p>`;
    if (el.confirming) {
        return html`
            <div class="idchat-confirm" role="group" aria-labelledby="idchat-confirm-text">
                <p id="idchat-confirm-text">${t.stop_confirm}</p>
                <button type="button" class="idchat-button idchat-button--danger" data-action="stop-yes"
                        @click=${() => el.stop()}>${t.stop_yes}</button>
                <button type="button" class="idchat-button idchat-button--secondary" data-action="stop-no"
                        @click=${() => el.cancel()}>${t.stop_no}</button>
            </div>`;
    }
    return html`
        <button type="button" class="idchat-button idchat-button--danger idchat-stop" data-action="stop"
                @click=${() => el.confirm()}>${t.stop}</button>`;
}

/** The live room (Converse renders into <converse-root>), hidden once the chat is over. */
export function tplConversation (t, s) {
    const hidden = OVER.includes(s.phase) || ['connecting', 'claiming'].includes(s.phase) || s.connection === 'offline';
    return html`
        <section class="idchat-conversation" aria-label="${t.chat_label}" ?hidden=${hidden}>
            <converse-root></converse-root>
        </section>`;
}

/** After the end: the conversation, read-only, and the button that saves it in the browser. */
export function tplEnded (t, s, el) {
    if (s.phase !== 'ended' || !s.transcript?.length) return nothing;
    return html`
        <section class="idchat-ended" aria-labelledby="idchat-transcript-title">
            <div class="idchat-ended__head">
                <h2 id="idchat-transcript-title" class="idchat-ended__title">${t.transcript_title}</h2>
                <button type="button" class="idchat-button" data-action="save"
                        @click=${() => el.save()}>${t.transcript_save}</button>
            </div>
            <div class="idchat-ended__saved" role="status">${s.saved ? html`<p>${t.transcript_saved}</p>` : nothing}</div>
            ${tplTranscript(t, s.transcript, { label: t.transcript_label })}
        </section>`;
}

/** New messages from the agent, spoken by screen readers. */
export function tplAnnouncer (s) {
    return html`<div class="idchat-visually-hidden" role="log" aria-live="polite" aria-relevant="additions text">
        ${s.announcement ? html`<p>${s.announcement}</p>` : nothing}</div>`;
}
