/**
 * Authentication during the chat (docs/protocol.md §11), as both clients read it: the
 * component's `<auth/>` headline and the readable names of the methods. No DOM, no
 * Converse API: stanza elements in, plain objects out.
 */
import { child } from './protocol.js';

export const AUTH_STATES = ['requested', 'verified', 'failed', 'declined', 'cancelled', 'expired'];

const METHOD_LABELS = { digid: 'DigiD', yivi: 'Yivi', irma: 'IRMA', eherkenning: 'eHerkenning' };

/** What people call a method: its brand name for the known tags, else the tag itself. */
export function methodLabel (tag) {
    return METHOD_LABELS[String(tag ?? '').toLowerCase()] ?? String(tag ?? '');
}

/**
 * §11 `<auth/>`: { chat, state, method, url }, or null when the message has none or its
 * state is unknown. `url` (the core's client_url, to the citizen only) is kept only when
 * it is an http(s) address: anything else must never become a link.
 */
export function parseAuth (message) {
    const el = child(message, 'auth');
    if (!el || !AUTH_STATES.includes(el.getAttribute('state'))) return null;
    return {
        chat: el.getAttribute('chat') || '',
        state: el.getAttribute('state'),
        method: el.getAttribute('method') || '',
        url: safeUrl(el.getAttribute('url')),
    };
}

function safeUrl (value) {
    if (!value) return '';
    try {
        const url = new URL(value);
        return ['https:', 'http:'].includes(url.protocol) ? url.href : '';
    } catch {
        return '';
    }
}
