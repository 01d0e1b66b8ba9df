/**
 * The conversation as it stood when the chat ended: taken from Converse's room into page
 * memory only (never storage), drawn read-only, and saved as a text file by the browser
 * itself (a download from a blob: URL — nothing is kept on or sent to the server).
 */
import { dayjs, html, nothing } from '../converse.js';

/** The room's chat messages as plain entries: { who, mine, time, text }. */
export function snapshot (muc, shown = (nick) => nick) {
    if (!muc?.messages) return [];
    return muc.messages.models
        .filter((m) => m.get('type') === 'groupchat' && m.get('body') && !m.get('is_ephemeral')
            && !m.get('retracted'))
        .map((m) => ({
            who: shown(m.get('nick') || ''),
            mine: m.get('sender') === 'me',
            time: m.get('time'),
            text: m.get('body'),
        }));
}

/** The transcript as text: the heading's lines, then one "[HH:mm] Name: text" paragraph per message. */
export function transcriptText (heading, entries) {
    const lines = [...heading.split('\n'), ''];
    for (const e of entries) {
        const when = dayjs(e.time);
        lines.push(`[${when.isValid() ? when.format('HH:mm') : '--:--'}] ${e.who}: ${e.text}`, '');
    }
    return lines.join('\r\n');
}

/** Let the browser save `text` as `filename` (UTF-8 with a byte order mark, for old editors). */
export function saveText (filename, text) {
    const url = URL.createObjectURL(new Blob(['\ufeff', text], { type: 'text/plain;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A file name with the date the chat ended, e.g. "chat-2026-11-30.txt". */
export function transcriptFilename (prefix, when = new Date()) {
    return `${prefix}-${dayjs(when).format('YYYY-MM-DD')}.txt`;
}

/** The read-only conversation, a list named `label`; `t.transcript_empty` when nothing was said. */
export function tplTranscript (t, entries, { label }) {
    if (!entries.length) return html`<p class="idchat-transcript__empty">${t.transcript_empty}</p>`;
    let day = '';
    return html`
        <ol class="idchat-transcript" aria-label="${label}">
            ${entries.map((e) => {
                const when = dayjs(e.time);
                const thisDay = when.isValid() ? when.format('dddd D MMMM YYYY') : '';
                const newDay = thisDay && thisDay !== day;
                day = thisDay || day;
                return html`
                    ${newDay ? html`<li class="idchat-transcript__day"><time datetime="${when.format('YYYY-MM-DD')}"
                        >${thisDay}</time></li>` : nothing}
                    <li class="idchat-transcript__message ${e.mine ? 'is-mine' : ''}">
                        <p class="idchat-transcript__meta"><strong>${e.who}</strong>
                            ${when.isValid() ? html`<time datetime="${e.time}">${when.format('HH:mm')}</time>` : nothing}</p>
                        <p class="idchat-transcript__text">${e.text}</p>
                    </li>`;
            })}
        </ol>`;
}
