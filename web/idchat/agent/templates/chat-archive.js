/**
 * An ended chat, read-only: what happened, the conversation, and "close". No card: the
 * citizen's details left the page when the chat ended.
 */
import { html } from '../../converse.js';
import { tplTranscript } from '../../shared/transcript.js';

export function tplArchive (t, e, el) {
    return html`
        <section class="idchat-archive" aria-labelledby="idchat-archive-title">
            <div class="idchat-archive__head">
                <h2 id="idchat-archive-title" class="idchat-archive__title">${t.ended_title(e.label)}</h2>
                ${e.purpose_label ? html`<p class="idchat-archive__purpose">${t.purpose}: <strong>${e.purpose_label}</strong></p>` : ''}
                <p class="idchat-archive__notice">${e.notice || t.ended_notice}</p>
                <button type="button" class="idchat-button idchat-button--secondary" data-action="close-chat"
                        @click=${() => el.close()}>${t.close_chat}</button>
            </div>
            ${tplTranscript(t, e.transcript ?? [], { label: t.transcript_label })}
        </section>`;
}

export function tplNothingOpen (t) {
    return html`<p class="idchat-archive__empty">${t.empty_main}</p>`;
}
