/**
 * The citizen's side of the protocol (docs/protocol.md §1, §6): claim tickets, the claim
 * IQ and the end IQ. No page DOM here; `api` is Converse's private API of the plugin.
 */
import { stx } from '../converse.js';
import { NS, errorCondition } from '../shared/protocol.js';
import { parseClaimed, parseClosed } from './parsers.js';

const IQ_TIMEOUT_MS = 15000;
const CLAIM_ATTEMPTS = 6;
const CLAIM_RETRY_MS = 2000; // waits of 2, 4, … 10 s: half a minute in all
const RETRY_AFTER_MAX_MS = 30000; // a server's Retry-After is followed up to this

// XMPP conditions (RFC 6120 §8.3.3) and our own reasons that may pass if we try again.
// 'forbidden' too: the component refuses only senders outside the guest host (never this
// page), but ejabberd answers it for a component that is briefly not connected.
// 'resource-constraint': over the component's budget for a moment (docs/protocol.md, Limits).
const TEMPORARY = ['service-unavailable', 'remote-server-timeout', 'internal-server-error',
                   'timeout', 'network', 'forbidden', 'resource-constraint'];

/**
 * Why a claim did not succeed. `reason` is what the citizen is told: 'elsewhere' (another
 * browser holds the chat), 'gone' (it ended), or 'failed'; `temporary` when worth a retry.
 */
export class ClaimError extends Error {
    constructor (cause, { retryAfterMs = 0 } = {}) {
        super(`claim failed: ${cause}`);
        this.cause = cause;
        this.retryAfterMs = retryAfterMs; // the server's Retry-After (503), if it sent one
        this.temporary = TEMPORARY.includes(cause);
        this.superseded = cause === 'superseded';
        this.reason = { 'elsewhere': 'elsewhere', 'gone': 'gone', 'item-not-found': 'gone' }[cause] ?? 'failed';
    }
}

/** A fresh one-time ticket from the page's own origin (cookie-bound to this browser). */
export async function requestTicket (url) {
    let response;
    try {
        response = await fetch(url, { method: 'POST', credentials: 'same-origin',
                                      headers: { Accept: 'application/json' } });
    } catch {
        throw new ClaimError('network');
    }
    if (response.status === 403) throw new ClaimError('elsewhere');
    if (response.status === 404) throw new ClaimError('gone');
    if (response.status === 503) {
        // Redis is down, slow or failing over (docs/protocol.md): try again when it says.
        throw new ClaimError('service-unavailable', { retryAfterMs: retryAfterMs(response) });
    }
    if (!response.ok) throw new ClaimError(response.status >= 500 ? 'service-unavailable' : 'failed');
    const { ticket } = await response.json();
    return ticket;
}

/** Retry-After in seconds (the only form we send), as milliseconds; 0 when absent. */
function retryAfterMs (response) {
    const seconds = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
    return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, RETRY_AFTER_MAX_MS) : 0;
}

/**
 * Whether the citizen's details have arrived: 'pending', 'verified' or 'not_verified'
 * (never their values), from the page's own origin; null when it cannot be told now.
 */
export async function fetchDetailsStatus (url) {
    try {
        const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
        if (!response.ok) return null;
        const { status } = await response.json();
        return ['pending', 'verified', 'not_verified'].includes(status) ? status : null;
    } catch {
        return null;
    }
}

/** §1: redeem `ticket`; resolves with the parsed `<claimed/>`, or `<closed/>` (state 'closed'). */
export async function sendClaim (api, component, ticket) {
    const iq = stx`<iq type="set" to="${component}" xmlns="jabber:client">
        <claim xmlns="${NS}" ticket="${ticket}"/></iq>`;
    const answer = await api.sendIQ(iq, IQ_TIMEOUT_MS, false);
    if (answer === null) throw new ClaimError('timeout');
    if (answer.getAttribute('type') !== 'result') throw new ClaimError(errorCondition(answer));
    const claimed = parseClaimed(answer) ?? parseClosed(answer);
    if (!claimed) throw new ClaimError('failed');
    return claimed;
}

/** §6: the citizen ends the chat (the component knows which from our JID). */
export async function sendEnd (api, component) {
    const iq = stx`<iq type="set" to="${component}" xmlns="jabber:client"><end xmlns="${NS}"/></iq>`;
    return api.sendIQ(iq, 5000, false);
}

/** §11: the citizen will not log in (or gives up): the agent is told. */
export async function sendAuthCancel (api, component) {
    const iq = stx`<iq type="set" to="${component}" xmlns="jabber:client"><auth-cancel xmlns="${NS}"/></iq>`;
    const answer = await api.sendIQ(iq, IQ_TIMEOUT_MS, false);
    if (answer === null || answer.getAttribute('type') !== 'result') throw new ClaimError(errorCondition(answer));
}

/**
 * One claim per XMPP session: a reload or a reconnect brings a new guest JID, which must
 * claim again before it joins. The page's ticket is used once; later claims fetch a fresh
 * one, and a refused page ticket (already used) is retried once with a fresh one. While
 * the service is only briefly away the claim is tried again for about half a minute.
 */
export class Claimer {
    #api;
    #component;
    #ticket;
    #ticketUrl;
    #onRetry;
    #current = null; // { jid, promise }

    constructor (api, { component, ticket, ticketUrl, onRetry = () => {} }) {
        this.#api = api;
        this.#component = component;
        this.#ticket = ticket;
        this.#ticketUrl = ticketUrl;
        this.#onRetry = onRetry;
    }

    /** The claim for the current connection's JID (claimed once, then remembered). */
    ensure () {
        const jid = this.#api.connection.get()?.jid;
        if (this.#current?.jid !== jid) {
            const promise = this.#claimWithRetries(jid);
            this.#current = { jid, promise };
            promise.catch(() => { if (this.#current?.promise === promise) this.#current = null; });
        }
        return this.#current.promise;
    }

    async #claimWithRetries (jid) {
        for (let attempt = 1; ; attempt++) {
            try {
                return await this.#claim();
            } catch (e) {
                // A new connection (a new guest JID) claims for itself.
                if (this.#api.connection.get()?.jid !== jid) throw new ClaimError('superseded');
                if (!e.temporary || attempt >= CLAIM_ATTEMPTS) throw e;
                this.#onRetry(attempt);
                const wait = Math.max(CLAIM_RETRY_MS * attempt, e.retryAfterMs ?? 0);
                await new Promise((resolve) => setTimeout(resolve, wait));
            }
        }
    }

    async #claim () {
        const pageTicket = this.#ticket;
        this.#ticket = null;
        const ticket = pageTicket || await requestTicket(this.#ticketUrl);
        try {
            return await sendClaim(this.#api, this.#component, ticket);
        } catch (e) {
            if (pageTicket && e.cause === 'not-authorized') {
                return sendClaim(this.#api, this.#component, await requestTicket(this.#ticketUrl));
            }
            throw e;
        }
    }
}
