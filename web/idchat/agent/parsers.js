/**
 * Parsers for what the component sends an agent (docs/protocol.md §3–§6): the presence
 * confirming availability, offers, revocations, attribute forms and ended chats. No page
 * DOM, no Converse API: stanza elements in, plain objects out.
 */
import { ATTRIBUTES_FORM_TYPE, NS, NS_XDATA, child, intAttr } from '../shared/protocol.js';

const STATUSES = ['verified', 'not_verified', 'pending'];
const MAX_PURPOSES = 50; // docs/protocol.md §9
const MAX_MEMBERS = 500;

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
    };
}

/** A share between 0 and 1 written as a decimal ('0.78'), or undefined. */
function share (el, name) {
    const raw = el?.getAttribute(name);
    return raw && /^(0(\.\d{1,6})?|1(\.0{1,6})?)$/.test(raw) ? Number(raw) : undefined;
}

/**
 * §9 `<overview/>` (an IQ result or a supervisor's headline push): counts, seconds and the
 * agents' own names only. Rows without their key (a purpose, an agent's JID) are left
 * out, and at most the protocol's bounds are kept (50 purposes, 500 agents). A figure the
 * protocol may leave out (longest, expected, idle, median wait, service level) is
 * `undefined` when absent or malformed, shown as "not known yet", never as a zero; counts
 * default to 0.
 */
export function parseOverview (stanza) {
    const el = child(stanza, 'overview');
    if (!el) return null;
    const rows = (name, most = 1) => Array.from(el.children)
        .filter((c) => c.namespaceURI === NS && c.localName === name).slice(0, most);
    const queues = rows('queue', MAX_PURPOSES).filter((q) => q.getAttribute('purpose')).map((q) => ({
        purpose: q.getAttribute('purpose'),
        label: q.getAttribute('label') || '',
        waiting: intAttr(q, 'waiting') ?? 0,
        longest: intAttr(q, 'longest'),
        expected: intAttr(q, 'expected'),
    }));
    const members = rows('member', MAX_MEMBERS).filter((m) => m.getAttribute('jid')).map((m) => ({
        jid: m.getAttribute('jid'),
        nick: m.getAttribute('nick') || m.getAttribute('jid').split('@')[0],
        available: m.getAttribute('available') === 'true',
        chats: intAttr(m, 'chats') ?? 0,
        offers: intAttr(m, 'offers') ?? 0,
        capacity: intAttr(m, 'capacity') ?? 0,
        idle: intAttr(m, 'idle'),
    }));
    const day = rows('today')[0];
    return {
        at: el.getAttribute('at') || '',
        service_level_seconds: intAttr(el, 'service-level-seconds'),
        queues,
        members,
        today: {
            answered: day ? intAttr(day, 'answered') ?? 0 : 0,
            abandoned: day ? intAttr(day, 'abandoned') ?? 0 : 0,
            median_wait: day ? intAttr(day, 'median-wait') : undefined,
            service_level: share(day, 'service-level'),
        },
    };
}

/** §9 `<watch/>` in the answer to a watch: how many seconds the pushes keep coming. */
export function parseWatch (iq) {
    const el = child(iq, 'watch');
    return el ? (intAttr(el, 'seconds') ?? 0) : null;
}

/** §11 `<auth-methods/>` in the IQ result: the method tags, in the core's order. */
export function parseAuthMethods (iq) {
    const el = child(iq, 'auth-methods');
    if (!el) return [];
    return Array.from(el.children)
        .filter((c) => c.namespaceURI === NS && c.localName === 'method' && /^[A-Za-z0-9._-]{1,64}$/.test(c.getAttribute('tag') || ''))
        .map((c) => c.getAttribute('tag'));
}
