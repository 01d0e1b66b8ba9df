/**
 * Templates of the citizen's chat: the status line, the conversation, the stop control.
 * Every value is interpolated by lit, so it is text, never markup.
 */
import { html, nothing } from '../../converse.js';

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
                <p class="idchat-queue"><strong>${s.position ? t.queued(s.position) : t.queued_unknown}</strong>
                   ${s.wait !== undefined ? html`<span class="idchat-wait">${t.wait(s.wait)}</span>` : nothing}</p>
                <p class="idchat-hint">${t.type_ahead}</p>`;
        case 'no-agent':
            return html`
                <p><strong>${t.no_agent}</strong></p>
                <p class="idchat-alternative">${s.alternatives[s.lang] || s.alternatives.nl || t.no_agent_default}</p>
                <p class="idchat-hint">${t.no_agent_stay}</p>`;
        case 'assigned':
            return html`<p class="idchat-assigned"><strong>${s.agent ? t.assigned(s.agent) : t.assigned_anonymous}</strong></p>`;
        case 'ended':
            return html`
                <p><strong>${t.ended[s.by] ?? t.ended.system}</strong></p>
                <p>${t.ended_next}</p>`;
        case 'error':
            return html`<p><strong>${t[s.error] ?? t.failed}</strong></p>`;
        default:
            return nothing;
    }
}

/** The mandatory way out: stop the chat and log out, with an inline confirmation. */
export function tplStop (t, s, el) {
    if (['ended', 'error'].includes(s.phase)) return nothing;
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

/** The room (Converse renders into <converse-root>), hidden once the chat is over. */
export function tplConversation (t, s) {
    const hidden = ['ended', 'error', 'connecting', 'claiming'].includes(s.phase) || s.connection === 'offline';
    return html`
        <section class="idchat-conversation" aria-label="${t.chat_label}" ?hidden=${hidden}>
            <converse-root></converse-root>
        </section>`;
}

/** New messages from the agent, spoken by screen readers. */
export function tplAnnouncer (s) {
    return html`<div class="idchat-visually-hidden" role="log" aria-live="polite" aria-relevant="additions text">
        ${s.announcement ? html`<p>${s.announcement}</p>` : nothing}</div>`;
}
