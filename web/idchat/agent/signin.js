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

    onConnected (me) {
        clearTimeout(this.timer);
        const jid = this._converse.session?.get('bare_jid');
        if (jid) rememberAccount(jid);
        localStorage.removeItem(CONVERSE_JID_KEY);
        desk.set({ signin: 'in', signin_error: '', me, reconnecting: false });
    }

    /** A disconnection that is not a reconnect: while signing in it means it failed. */
    onDisconnected () {
        if (['signing-in', 'resuming'].includes(desk.get('signin'))) this.fail('connection');
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
