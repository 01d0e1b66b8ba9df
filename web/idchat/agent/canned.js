/**
 * Canned replies (docs/protocol.md §3a): parse the component's list, find the `/word` being
 * typed, pick the replies that match it, fill in the placeholders and insert the text.
 * No page DOM, no Converse API: plain values in and out.
 */
import { NS, child } from '../shared/protocol.js';

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const MAX_SHOWN = 8;

/** §3a `<replies/>`: [{ key, lang, purpose, text }] ('' purpose: for every topic). */
export function parseReplies (iq) {
    const el = child(iq, 'replies');
    if (!el) return [];
    return Array.from(el.children)
        .filter((r) => r.namespaceURI === NS && r.localName === 'reply' && r.getAttribute('key'))
        .map((r) => ({
            key: r.getAttribute('key'),
            lang: (r.getAttributeNS(XML_NS, 'lang') || r.getAttribute('xml:lang') || 'nl').slice(0, 2),
            purpose: r.getAttribute('purpose') || '',
            text: r.textContent,
        }))
        .filter((r) => r.text.trim());
}

/**
 * The `/word` right before the caret, at the start of the box or after a space or a line
 * break: `{ start, query }` (start: the index of the '/'), or null when there is none.
 */
export function slashQuery (value, caret = value.length) {
    const match = /(^|\s)\/([\p{L}\p{N}-]*)$/u.exec(value.slice(0, caret));
    if (!match) return null;
    return { start: caret - match[2].length - 1, query: match[2].toLowerCase() };
}

/**
 * The replies for a chat's topic that match `query`: keys that start with it before keys
 * that only contain it; the topic's own before those for every topic; the console's
 * language before the other. At most MAX_SHOWN.
 */
export function matchReplies (replies, { query = '', purpose = '', lang = 'nl' } = {}) {
    const rank = (r) => [
        r.key.startsWith(query) ? 0 : 1,
        r.purpose ? 0 : 1,
        r.lang === lang ? 0 : 1,
    ];
    return replies
        .map((r, index) => ({ r, index }))
        .filter(({ r }) => (!r.purpose || r.purpose === purpose) && r.key.includes(query))
        .sort((a, b) => {
            const [x, y] = [rank(a.r), rank(b.r)];
            for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
            return a.index - b.index;
        })
        .slice(0, MAX_SHOWN)
        .map(({ r }) => r);
}

/** The reply's text with {agent} (the agent's display name) and {topic} (its label). */
export function fillReply (text, { agent = '', topic = '' } = {}) {
    return text.replaceAll('{agent}', agent).replaceAll('{topic}', topic);
}

/** The box's text with `/word` (from `start` to the caret) replaced: { value, caret }. */
export function insertReply (value, start, caret, text) {
    return { value: value.slice(0, start) + text + value.slice(caret), caret: start + text.length };
}
