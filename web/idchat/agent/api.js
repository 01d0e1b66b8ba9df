/**
 * The agent's side of the protocol (docs/protocol.md §3–§6, §9): availability presence,
 * accept/decline, asking for attributes, ending a chat; a supervisor's overview. No page
 * DOM; `api` is Converse's private API of the plugin.
 */
import { stx } from '../converse.js';
import { NS, errorCondition } from '../shared/protocol.js';
import { parseAccepted, parseAttributes, parseAuthMethods, parseOverview, parseWatch } from './parsers.js';

const IQ_TIMEOUT_MS = 10000;

export class ProtocolError extends Error {
    constructor (condition) {
        super(`ID Chat request failed: ${condition}`);
        this.condition = condition;
    }
}

async function request (api, iq) {
    const answer = await api.sendIQ(iq, IQ_TIMEOUT_MS, false);
    if (answer === null) throw new ProtocolError('timeout');
    if (answer.getAttribute('type') !== 'result') throw new ProtocolError(errorCondition(answer));
    return answer;
}

/** §3 directed presence: available (no <show/>) or away, our capacity, our name (XEP-0172). */
export function sendAvailability (api, component, { available, maxChats, nick }) {
    const show = available ? '' : stx`<show>away</show>`;
    api.send(stx`<presence to="${component}" xmlns="jabber:client">${show}
        <agent xmlns="${NS}" max-chats="${maxChats}"/>
        <nick xmlns="http://jabber.org/protocol/nick">${nick}</nick></presence>`);
}

/** §3 going offline for ID Chat entirely (e.g. before logging out). */
export function sendUnavailable (api, component) {
    api.send(stx`<presence to="${component}" type="unavailable" xmlns="jabber:client"/>`);
}

/** §4 accept an offer; resolves with the room to join. */
export async function sendAccept (api, component, offer) {
    const answer = await request(api, stx`<iq type="set" to="${component}" xmlns="jabber:client">
        <accept xmlns="${NS}" offer="${offer}"/></iq>`);
    const accepted = parseAccepted(answer);
    if (!accepted) throw new ProtocolError('bad-answer');
    return accepted;
}

/** §4 decline an offer. */
export async function sendDecline (api, component, offer) {
    await request(api, stx`<iq type="set" to="${component}" xmlns="jabber:client">
        <decline xmlns="${NS}" offer="${offer}"/></iq>`);
}

/** §5 ask again for a chat's attributes (after a reload). */
export async function fetchAttributes (api, component, chat) {
    const answer = await request(api, stx`<iq type="get" to="${component}" xmlns="jabber:client">
        <attributes xmlns="${NS}" chat="${chat}"/></iq>`);
    return parseAttributes(answer);
}

/** §6 end a chat. */
export async function sendEnd (api, component, chat) {
    await request(api, stx`<iq type="set" to="${component}" xmlns="jabber:client">
        <end xmlns="${NS}" chat="${chat}"/></iq>`);
}

/** §9 the overview once; a ProtocolError('forbidden') for anyone who is not a supervisor. */
export async function fetchOverview (api, component) {
    const answer = await request(api, stx`<iq type="get" to="${component}" xmlns="jabber:client">
        <overview xmlns="${NS}"/></iq>`);
    const overview = parseOverview(answer);
    if (!overview) throw new ProtocolError('bad-answer');
    return overview;
}

/** §9 follow the overview live; resolves with the seconds the pushes keep coming. */
export async function sendWatch (api, component) {
    const answer = await request(api, stx`<iq type="set" to="${component}" xmlns="jabber:client">
        <watch xmlns="${NS}"/></iq>`);
    return parseWatch(answer) ?? 0;
}

/** §9 stop the pushes. */
export async function sendUnwatch (api, component) {
    await request(api, stx`<iq type="set" to="${component}" xmlns="jabber:client">
        <unwatch xmlns="${NS}"/></iq>`);
}

/** §11 the login methods the core allows for this chat's topic (tags). */
export async function fetchAuthMethods (api, component, chat) {
    const answer = await request(api, stx`<iq type="get" to="${component}" xmlns="jabber:client">
        <auth-methods xmlns="${NS}" chat="${chat}"/></iq>`);
    return parseAuthMethods(answer);
}

/** §11 ask the citizen to log in with `method`. */
export async function sendAuthenticate (api, component, chat, method) {
    await request(api, stx`<iq type="set" to="${component}" xmlns="jabber:client">
        <authenticate xmlns="${NS}" chat="${chat}" method="${method}"/></iq>`);
}

/** §11 withdraw the request. */
export async function sendAuthCancel (api, component, chat) {
    await request(api, stx`<iq type="set" to="${component}" xmlns="jabber:client">
        <auth-cancel xmlns="${NS}" chat="${chat}"/></iq>`);
}
