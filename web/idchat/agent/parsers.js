/**
 * Parsers for what the component sends an agent (docs/protocol.md §3–§6): the presence
 * confirming availability, offers, revocations, attribute forms and ended chats. No page
 * DOM, no Converse API: stanza elements in, plain objects out.
 */
import { ATTRIBUTES_FORM_TYPE, NS, NS_XDATA, child, intAttr } from '../shared/protocol.js';

const STATUSES = ['verified', 'not_verified', 'pending'];

/** §3 the component's `<agent/>` presence: load, availability and open chats. */
export function parseAgentPresence (presence) {
    const el = child(presence, 'agent');
    if (!el) return null;
    const chats = Array.from(el.children)
        .filter((c) => c.namespaceURI === NS && c.localName === 'chat' && c.getAttribute('id'))
        .map((c) => ({
            chat: c.getAttribute('id'),
            room: c.getAttribute('room'),
            purpose: c.getAttribute('purpose') || '',
            since: c.getAttribute('since') || undefined,
            // §11: a request to log in is out for this chat.
            ...(c.getAttribute('auth') === 'requested' ? { auth: 'requested', auth_method: c.getAttribute('auth-method') || '' } : {}),
        }));
    return {
        max_chats: intAttr(el, 'max-chats'),
        active: intAttr(el, 'active') ?? chats.length,
        available: el.getAttribute('available') === 'true',
        chats,
    };
}

/** §4 `<offer/>`: no personal data, only what the agent needs to decide. */
export function parseOffer (message) {
    const el = child(message, 'offer');
    if (!el || !el.getAttribute('id') || !el.getAttribute('chat')) return null;
    return {
        id: el.getAttribute('id'),
        chat: el.getAttribute('chat'),
        purpose: el.getAttribute('purpose') || '',
        waiting: intAttr(el, 'waiting') ?? 0,
        timeout: intAttr(el, 'timeout') ?? 30,
        from_agent: el.getAttribute('from-agent') || '', // a colleague hands it on (§12)
    };
}

/** §4 `<revoke/>`. */
export function parseRevoke (message) {
    const el = child(message, 'revoke');
    return el?.getAttribute('offer') ? { id: el.getAttribute('offer'), reason: el.getAttribute('reason') || '' } : null;
}

/** §4 `<accepted/>` in the accept IQ's result. */
export function parseAccepted (iq) {
    const el = child(iq, 'accepted');
    return el?.getAttribute('room')
        ? { room: el.getAttribute('room'), chat: el.getAttribute('chat') || el.getAttribute('room').split('@')[0] }
        : null;
}

/** §6 `<ended/>`. */
export function parseEnded (message) {
    const el = child(message, 'ended');
    return el?.getAttribute('chat') ? { chat: el.getAttribute('chat'), by: el.getAttribute('by') || 'system' } : null;
}

/**
 * §5 `<attributes/>` (in a headline or an IQ result): the XEP-0004 result form with our
 * FORM_TYPE. Values are returned as untrusted strings, to be shown as text only.
 */
export function parseAttributes (stanza) {
    const el = child(stanza, 'attributes');
    if (!el || !el.getAttribute('chat')) return null;
    const form = Array.from(el.children).find(
        (c) => c.namespaceURI === NS_XDATA && c.localName === 'x' && c.getAttribute('type') === 'result');
    if (!form) return null;
    const fields = Array.from(form.children)
        .filter((f) => f.namespaceURI === NS_XDATA && f.localName === 'field')
        .map((f) => ({
            name: f.getAttribute('var') || '',
            label: f.getAttribute('label') || '',
            values: Array.from(f.children)
                .filter((v) => v.namespaceURI === NS_XDATA && v.localName === 'value')
                .map((v) => v.textContent),
        }));
    const value = (name) => fields.find((f) => f.name === name)?.values[0];
    if (value('FORM_TYPE') !== ATTRIBUTES_FORM_TYPE) return null;
    const status = value('status');
    return {
        chat: el.getAttribute('chat'),
        purpose: value('purpose') || '',
        purpose_label: value('purpose_label') || '',
        status: STATUSES.includes(status) ? status : 'not_verified',
        source: value('source') || '',
        verified_at: value('verified_at') || '',
        attributes: fields
            .filter((f) => f.name.startsWith('attr:'))
            .map((f) => ({ name: f.name.slice(5), label: f.label, value: f.values.join(', ') })),
        // §12: who handed the chat on, and their internal note (one value per line).
        transferred_by: value('transferred_by') || '',
        transfer_note: fields.find((f) => f.name === 'transfer_note')?.values.join('\n') || '',
    };
}

/** §12 `<transferred/>`: how a chat we handed on went. */
export function parseTransferred (message) {
    const el = child(message, 'transferred');
    if (!el?.getAttribute('chat') || !el.getAttribute('outcome')) return null;
    return { chat: el.getAttribute('chat'), outcome: el.getAttribute('outcome'),
             agent: el.getAttribute('agent') || '', purpose: el.getAttribute('purpose') || '' };
}

/** §12 `<colleagues/>` in an IQ result: [{ jid, nick, free }]. */
export function parseColleagues (iq) {
    const el = child(iq, 'colleagues');
    if (!el) return [];
    return Array.from(el.children)
        .filter((c) => c.namespaceURI === NS && c.localName === 'colleague' && c.getAttribute('jid'))
        .map((c) => ({ jid: c.getAttribute('jid'), nick: c.getAttribute('nick') || c.getAttribute('jid').split('@')[0],
                       free: intAttr(c, 'free') ?? 0 }));
}

/** §11 `<auth-methods/>` in the IQ result: the method tags, in the core's order. */
export function parseAuthMethods (iq) {
    const el = child(iq, 'auth-methods');
    if (!el) return [];
    return Array.from(el.children)
        .filter((c) => c.namespaceURI === NS && c.localName === 'method' && /^[A-Za-z0-9._-]{1,64}$/.test(c.getAttribute('tag') || ''))
        .map((c) => c.getAttribute('tag'));
}
