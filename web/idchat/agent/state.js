/**
 * What the agent's console shows, as models the plugin updates and the elements render:
 * the desk (sign-in, connection, availability, capacity), the standing offers, one
 * identity card per open chat, the ended chats the agent has not closed yet, and a
 * supervisor's team overview (counts and times only).
 * Attribute values live here only while their chat is open; ended chats keep only their
 * messages, in page memory.
 */
import { Collection, Model } from '../converse.js';

const PREFERENCES = 'idchat-agent-desk';
const ACCOUNT = 'idchat-agent-account';

export const desk = new Model({
    oidc: false, // signing in with the identity provider (agents.mode = "oidc")
    signin: 'out', // out | signing-in | resuming | in
    signin_error: '', // '' | credentials | connection | timeout | expired
    me: '',
    connected: false,
    reconnecting: false,
    available: false,
    max_chats: 2,
    active: 0,
    confirmed: false,
    forbidden: false,
    notice: '',
    selected: '', // the chat id on screen
    supervisor: 'unknown', // unknown | yes | no: what the component answered to <overview/>
    view: 'chats', // chats | overview (supervisors only)
    auth_in_chat: false, // the service can ask the citizen to log in (docs/protocol.md §11)
});

/**
 * A supervisor's overview (docs/protocol.md §9) as parsers.js reads it: `figures` (null
 * before the first answer), `received_ms` (local clock), `failed` when the component
 * did not answer, `stale` when the pushes stopped coming.
 */
export const overview = new Model({ figures: null, received_ms: 0, failed: false, stale: false });

/** Offers waiting for this agent's answer; `deadline` is a local clock time in ms. */
export const offers = new Collection();

/**
 * Identity cards, id = chat id: { room, purpose, status: 'waiting' | 'pending' | 'verified'
 * | 'not_verified', source, verified_at, attributes: [{name, label, value}], unread,
 * since_ms }.
 */
export const cards = new Collection();

/** Ended chats still on screen, id = chat id: { label, purpose_label, by, transcript }. */
export const ended = new Collection();

/** The agent's own choices (not personal data) survive a reload of the console. */
export function loadPreferences () {
    try {
        const saved = JSON.parse(sessionStorage.getItem(PREFERENCES) || '{}');
        desk.set({
            available: saved.available === true,
            max_chats: Number.isInteger(saved.max_chats) ? saved.max_chats : desk.get('max_chats'),
            view: saved.view === 'overview' ? 'overview' : 'chats',
        });
    } catch { /* a damaged entry just means the defaults */ }
}

export function savePreferences () {
    sessionStorage.setItem(PREFERENCES, JSON.stringify({
        available: desk.get('available'), max_chats: desk.get('max_chats'), view: desk.get('view') }));
}

/**
 * The signed-in account's full JID, kept for this tab only so a reload can sign in again
 * (and resume the same stream) with the SCRAM keys Converse keeps next to it (never the
 * password).
 */
export function rememberAccount (jid) {
    sessionStorage.setItem(ACCOUNT, jid);
}

export function rememberedAccount () {
    return sessionStorage.getItem(ACCOUNT) || '';
}

export function chatOfRoom (jid) {
    return cards.find((card) => card.get('room') === jid);
}

/** What the agent calls a chat: the verified name from its card, else a short reference. */
export function chatLabel (card, t) {
    const name = card.get?.('status') === 'verified'
        ? card.get('attributes')?.find((a) => a.name === 'fullname')?.value?.trim()
        : '';
    return name || t.chat_ref(String(card.id).slice(0, 6));
}
