/**
 * Signing the agent in and out. The console's own form (user name and password) logs in
 * through Converse; what went wrong is told in words. A reload signs in again with the
 * SCRAM keys Converse keeps in this tab's sessionStorage (reuse_scram_keys): the password
 * itself is never stored. Logging out tells the component first (§3) and forgets the tab.
 */
import { Strophe, u } from '../converse.js';
import { sendUnavailable } from './api.js';
import { desk, rememberAccount, rememberedAccount } from './state.js';

const SIGNIN_TIMEOUT_MS = 20000;
// When Converse gives a connection up (e.g. a first attempt that never got through) it also
// forgets the SCRAM keys: the console keeps trying, with the keys it holds in memory.
const RETRY_MS = 5000;
const RETRIES = 60;
// Converse writes the account's JID to localStorage for its own automatic login; we keep
// it in sessionStorage only (state.js) and remove Converse's copy.
const CONVERSE_JID_KEY = 'conversejs-session-jid';

export class SignIn {
    constructor (_converse) {
        this._converse = _converse;
        this.api = _converse.api;
        this.domain = this.api.settings.get('idchat_agent_domain');
        this.component = this.api.settings.get('idchat_component_domain');
        this.timer = null;
        this.retryTimer = null;
        this.keys = null; // the SCRAM keys of the signed-in account, in page memory
        this.leaving = false;
    }

    /** The account's JID for what the agent typed: a user name, or the whole address. */
    jid (username) {
        let name = username.trim().toLowerCase();
        if (name.endsWith(`@${this.domain}`)) name = name.slice(0, -this.domain.length - 1);
        return `${Strophe.escapeNode(name)}@${this.domain}`;
    }

    async login (username, password) {
        if (!username.trim() || !password) return;
        this.start('signing-in');
        try {
            await this.api.user.login(this.jid(username), password);
        } catch {
            this.fail('connection');
        }
    }

    /** After a reload: the same account again, with the keys kept in this tab. */
    async resume () {
        const jid = rememberedAccount();
        if (!jid) return;
        const keys = (await u.savedLoginInfo(jid))?.get('scram_keys');
        if (!keys) return;
        this.start('resuming');
        try {
            await this.api.user.login(jid, keys);
        } catch {
            this.fail('expired');
        }
    }

    start (signin) {
        desk.set({ signin, signin_error: '' });
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
            if (['signing-in', 'resuming'].includes(desk.get('signin'))) {
                this.fail('timeout');
                this.api.connection.get()?.disconnect?.();
            }
        }, SIGNIN_TIMEOUT_MS);
    }

    /** Converse's connection status while signing in (Strophe.Status). */
    onStatus (status) {
        if (!['signing-in', 'resuming'].includes(desk.get('signin'))) return;
        const resuming = desk.get('signin') === 'resuming';
        if (status === Strophe.Status.AUTHFAIL) this.fail(resuming ? 'expired' : 'credentials');
        else if ([Strophe.Status.CONNFAIL, Strophe.Status.ERROR].includes(status)) this.fail('connection');
    }

    async onConnected (me) {
        this.retries = 0;
        clearTimeout(this.timer);
        clearTimeout(this.retryTimer);
        // The full JID: a reload may resume this very stream (XEP-0198), whose 'from' the
        // server holds us to (ejabberd ends a stream that claims another resource).
        const full = this.api.connection.get()?.jid;
        const jid = this._converse.session?.get('bare_jid');
        if (full?.includes('/')) rememberAccount(full);
        localStorage.removeItem(CONVERSE_JID_KEY);
        desk.set({ signin: 'in', signin_error: '', me, reconnecting: false });
        // Keep the keys for reconnecting; put them back where a reload finds them when
        // Converse dropped them (it does on giving up a connection).
        const info = jid && await u.savedLoginInfo(jid);
        if (info?.get('scram_keys')) this.keys = info.get('scram_keys');
        else if (info && this.keys) info.save({ scram_keys: this.keys });
    }

    /**
     * Converse stopped trying: while signing in that means it failed; once signed in the
     * console tries again by itself until the connection is back (or the agent logs out).
     */
    onDisconnected () {
        if (['signing-in', 'resuming'].includes(desk.get('signin'))) {
            this.fail('connection');
        } else if (desk.get('signin') === 'in' && !this.leaving) {
            this.retries = (this.retries ?? 0) + 1;
            if (this.retries > RETRIES) {
                desk.set({ signin: 'out', signin_error: 'connection', reconnecting: false });
                return;
            }
            desk.set({ reconnecting: true });
            clearTimeout(this.retryTimer);
            this.retryTimer = setTimeout(() => this.retry(), RETRY_MS);
        }
    }

    async retry () {
        if (desk.get('signin') !== 'in' || this.leaving || this.api.connection.connected()) return;
        const jid = rememberedAccount();
        if (!jid || !this.keys) {
            desk.set({ signin: 'out', signin_error: 'expired', reconnecting: false });
            return;
        }
        try {
            await this.api.user.login(jid, this.keys);
        } catch {
            this.onDisconnected();
        }
    }

    fail (reason) {
        clearTimeout(this.timer);
        if (reason === 'expired') sessionStorage.clear(); // stale keys: start from the form
        localStorage.removeItem(CONVERSE_JID_KEY);
        // A failure told first (e.g. wrong password) is not overwritten by the disconnection after it.
        if (!['signing-in', 'resuming'].includes(desk.get('signin'))) return;
        desk.set({ signin: 'out', signin_error: reason });
    }

    /** Log out: the component first (no more offers), then the server; the tab forgets all. */
    async logout () {
        this.leaving = true;
        clearTimeout(this.retryTimer);
        try {
            if (this.api.connection.connected()) sendUnavailable(this.api, this.component);
            await this.api.user.logout();
        } finally {
            sessionStorage.clear();
            localStorage.removeItem(CONVERSE_JID_KEY);
            // A fresh page: no card, no conversation, no offer stays in this tab's memory.
            location.replace(location.pathname + location.search);
        }
    }
}
