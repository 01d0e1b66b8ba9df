/**
 * Signing the agent in with the municipality's identity provider (agents.mode = "oidc",
 * docs/deployment.md): the desk's button goes to /agent/signin (the provider, then back to
 * /agent with a session cookie the page cannot read). The console then asks
 * POST /agent/credential for a short-lived XMPP credential and logs in with it (SASL
 * PLAIN, never stored), and renews it at half its lifetime: the server gets the next one
 * in-band (<credential/>), so the session lives on; when the HTTP service refuses (signed
 * out elsewhere, the provider refused, the role was taken away), the console signs out.
 * Logging out ends the console session at the HTTP service, then at the provider.
 */
import { stx } from '../converse.js';
import { CREDENTIAL_NS } from '../shared/protocol.js';
import { sendUnavailable } from './api.js';
import { SignIn } from './signin.js';
import { desk } from './state.js';

const MIN_RENEW_MS = 15000;
// Why the last console session ended, across the fresh page a sign-out loads.
const ENDED = 'idchat-agent-ended';

/** POST to one of our /agent endpoints; the JSON answer and the status. */
async function post (path) {
    const response = await fetch(path, { method: 'POST', credentials: 'same-origin',
                                         headers: { Accept: 'application/json' } });
    let body = {};
    try { body = await response.json(); } catch { /* an empty or broken answer */ }
    return { ok: response.ok, status: response.status, body };
}

export class CredentialSignIn extends SignIn {
    constructor (_converse) {
        super(_converse);
        this.credential = null; // { jid, credential, expires_in }, in page memory only
        this.renewTimer = null;
    }

    /** After the provider sent the browser back (or a reload): sign in if we may. */
    async resume () {
        const ended = sessionStorage.getItem(ENDED);
        sessionStorage.removeItem(ENDED);
        if (ended) {
            desk.set({ signin: 'out', signin_error: ended });
            return;
        }
        const answer = await post('/agent/credential').catch(() => ({ ok: false, status: 0 }));
        if (!answer.ok) {
            // 401: not signed in (the button shows); anything else: the sign-in ended.
            if (answer.status !== 401) desk.set({ signin: 'out', signin_error: 'expired' });
            return;
        }
        this.credential = answer.body;
        this.start('signing-in');
        try {
            await this.api.user.login(this.credential.jid, this.credential.credential);
        } catch {
            this.fail('connection');
        }
    }

    login () {
        location.assign('/agent/signin');
    }

    async onConnected (me) {
        await super.onConnected(me);
        this.schedule();
    }

    schedule () {
        clearTimeout(this.renewTimer);
        const halfLife = (this.credential?.expires_in ?? 60) * 500;
        this.renewTimer = setTimeout(() => this.renew(), Math.max(MIN_RENEW_MS, halfLife));
    }

    /** The next credential: to the XMPP server in-band, and kept for a reconnection. */
    async renew () {
        if (this.leaving || desk.get('signin') !== 'in') return;
        const answer = await post('/agent/credential').catch(() => null);
        if (answer === null) return this.schedule(); // the network: try again soon
        if (!answer.ok) return this.logout('expired');
        this.credential = answer.body;
        if (this.api.connection.connected()) {
            await this.api.sendIQ(stx`<iq type="set" to="${this.domain}" xmlns="jabber:client">
                <credential xmlns="${CREDENTIAL_NS}">${this.credential.credential}</credential></iq>`,
                                  10000, false);
        }
        this.schedule();
    }

    /** A dropped connection: back in with a fresh credential. */
    async retry () {
        if (desk.get('signin') !== 'in' || this.leaving || this.api.connection.connected()) return;
        const answer = await post('/agent/credential').catch(() => null);
        if (answer && !answer.ok) return this.logout('expired');
        if (answer) this.credential = answer.body;
        try {
            await this.api.user.login(this.credential.jid, this.credential.credential);
        } catch {
            this.onDisconnected();
        }
    }

    /** Log out: the component first, the XMPP server, our session; then the provider. */
    async logout (reason = '') {
        this.leaving = true;
        clearTimeout(this.retryTimer);
        clearTimeout(this.renewTimer);
        let next = location.pathname;
        try {
            if (this.api.connection.connected()) sendUnavailable(this.api, this.component);
            const answer = await post('/agent/signout').catch(() => null);
            if (!reason && answer?.body?.logout_url) next = answer.body.logout_url;
            await this.api.user.logout();
        } finally {
            sessionStorage.clear();
            this.credential = null;
            // A fresh page: no card, no conversation, no offer stays in this tab's memory.
            if (reason) sessionStorage.setItem(ENDED, reason);
            location.replace(next);
        }
    }
}
