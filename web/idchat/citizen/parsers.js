/**
 * Parsers for what the component sends the citizen (docs/protocol.md §1, §2). No DOM of the
 * page, no Converse API: stanza elements in, plain objects out.
 */
import { NS, child, intAttr } from '../shared/protocol.js';

const STATES = ['queued', 'offered', 'assigned', 'no-agent', 'ended'];
const ENDED_BY = ['agent', 'citizen', 'timeout', 'system'];
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** §1 `<claimed/>` in the claim IQ's result. */
export function parseClaimed (iq) {
    const el = child(iq, 'claimed');
    if (!el || !el.getAttribute('room')) return null;
    return {
        room: el.getAttribute('room'),
        nick: el.getAttribute('nick') || 'Inwoner',
        chat: el.getAttribute('chat') || el.getAttribute('room').split('@')[0],
        purpose: el.getAttribute('purpose') || '',
        ...parseState(el),
    };
}

/**
 * §1 `<closed/>` in the claim IQ's result: the topic is closed now (opening hours). `opens`
 * is the ISO instant it opens again, when the component said so.
 */
export function parseClosed (iq) {
    const el = child(iq, 'closed');
    if (!el) return null;
    const opens = el.getAttribute('opens') || '';
    return {
        state: 'closed',
        purpose: el.getAttribute('purpose') || '',
        opens: Number.isNaN(Date.parse(opens)) ? undefined : opens,
        alternatives: alternativesOf(el),
    };
}

/** §2 a headline `<status/>` from the component, or null when the message has none. */
export function parseStatus (message) {
    const el = child(message, 'status');
    if (!el) return null;
    return { chat: el.getAttribute('chat') || '', ...parseState(el) };
}

function parseState (el) {
    const state = STATES.includes(el.getAttribute('state')) ? el.getAttribute('state') : 'queued';
    const by = el.getAttribute('by');
    const alternatives = alternativesOf(el);
    return {
        state,
        position: intAttr(el, 'position'),
        wait: intAttr(el, 'wait'),
        agent: el.getAttribute('agent') || undefined,
        by: ENDED_BY.includes(by) ? by : (state === 'ended' ? 'system' : undefined),
        interrupted: el.getAttribute('interrupted') === 'true',
        alternatives,
    };
}

/** The `<alternative xml:lang/>` children of a status or of `<closed/>`, by language. */
function alternativesOf (el) {
    const alternatives = {};
    for (const alt of el.children) {
        if (alt.namespaceURI === NS && alt.localName === 'alternative') {
            const lang = alt.getAttributeNS(XML_NS, 'lang') || alt.getAttribute('xml:lang') || 'nl';
            alternatives[lang.slice(0, 2)] = alt.textContent.trim();
        }
    }
    return alternatives;
}
