/**
 * What the agent's console shows, as models the plugin updates and the elements render:
 * the desk (connection, availability, capacity), the standing offers, and one identity
 * card per open chat. Attribute values live here only while their chat is open.
 */
import { Collection, Model } from '../converse.js';

const PREFERENCES = 'idchat-agent-desk';

export const desk = new Model({
    connected: false,
    available: false,
    max_chats: 2,
    active: 0,
    confirmed: false,
    forbidden: false,
    notice: '',
});

/** Offers waiting for this agent's answer; `deadline` is a local clock time in ms. */
export const offers = new Collection();

/**
 * Identity cards, id = chat id: { room, purpose, status: 'waiting' | 'pending' | 'verified'
 * | 'not_verified', source, verified_at, attributes: [{name, label, value}] }.
 */
export const cards = new Collection();

/** The agent's own choices (not personal data) survive a reload of the console. */
export function loadPreferences () {
    try {
        const saved = JSON.parse(sessionStorage.getItem(PREFERENCES) || '{}');
        desk.set({
            available: saved.available === true,
            max_chats: Number.isInteger(saved.max_chats) ? saved.max_chats : desk.get('max_chats'),
        });
    } catch { /* a damaged entry just means the defaults */ }
}

export function savePreferences () {
    sessionStorage.setItem(PREFERENCES, JSON.stringify({
        available: desk.get('available'), max_chats: desk.get('max_chats') }));
}

export function chatOfRoom (jid) {
    return cards.find((card) => card.get('room') === jid);
}
