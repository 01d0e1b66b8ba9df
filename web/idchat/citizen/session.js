/**
 * The citizen's chat session: claim before joining (docs/protocol.md §1), follow the
 * component's status headlines (§2), come back after a reload or a lost connection, and
 * end it on request (§6). At the end the conversation is kept in page memory for the
 * citizen to read and save. It updates the chat model in state.js; elements render it.
 */
import { CITIZEN_NICK } from '../shared/display.js';
import { NS } from '../shared/protocol.js';
import { snapshot } from '../shared/transcript.js';
import { parseAuth } from '../shared/auth.js';
import { Claimer, fetchDetailsStatus, sendAuthCancel, sendEnd } from './api.js';
import { parseStatus } from './parsers.js';
import { applyAuth, applyStatus, chat } from './state.js';
import { texts } from './texts.js';

const BACK_NOTICE_MS = 8000;
const DETAILS_POLL_MS = [2000, 3000, 5000, 10000, 15000]; // then every 15 s while pending
// The claim's answer says 'queued'; the component follows it at once with 'no-agent' when
// nobody is on duty. Holding 'queued' back this long keeps "you are next" from flashing up.
const CLAIM_SETTLE_MS = 1000;
// When Converse gives a connection up, the page keeps trying (a new guest session claims
// the chat again, as after a reload) for a couple of minutes.
const RETRY_MS = 5000;
const RETRIES = 24;

export class CitizenSession {
    constructor (api) {
        this.api = api;
        this.t = texts(api.settings.get('idchat_lang'));
        this.component = api.settings.get('idchat_component_domain');
        this.room = null;
        this.claimer = new Claimer(api, {
            component: this.component,
            ticket: api.settings.get('idchat_ticket'),
            ticketUrl: api.settings.get('idchat_ticket_url'),
            onRetry: () => chat.set({ retrying: true }),
        });
    }

    /** Awaited by Converse before a join presence goes out (XEP-0045 §7.2). */
    async beforeJoin (presence) {
        await this.claimer.ensure();
        return presence;
    }

    /**
     * After a drop Converse may come back through 'reconnected' or a fresh 'connected' (an
     * anonymous session cannot be resumed): either way a new guest JID that claims again.
     */
    async onConnected () {
        this.retries = 0;
        if (chat.get('connection') !== 'online') this.connectionBack();
        this.listenForStatus();
        if (['ended', 'error'].includes(chat.get('phase'))) return;
        if (chat.get('phase') === 'connecting') chat.set({ phase: 'claiming' });
        const claimed = await this.claim();
        if (!claimed) return;
        if (claimed.state === 'closed') return this.closed(claimed);
        this.room = claimed.room;
        this.settle(claimed);
        // converse-singleton only lets the auto-join room in: the claimed room becomes it.
        this.api.settings.set('auto_join_rooms', [{ jid: claimed.room, nick: claimed.nick }]);
        if (!(await this.api.rooms.get(claimed.room))) {
            await this.api.rooms.open(claimed.room, { nick: claimed.nick }, true);
        }
    }

    /**
     * Outside the topic's opening hours nothing was opened (§1 `<closed/>`): say when the chat
     * opens again and what else the citizen can do, and log out (nothing to wait for here).
     */
    async closed ({ opens, alternatives }) {
        chat.set({ phase: 'closed', opens, alternatives });
        await this.leave();
    }

    /** Apply the claim's state unless a status headline has said more in the meantime. */
    settle (claimed) {
        if (claimed.state !== 'queued') return applyStatus(claimed);
        this.unsettled = claimed;
        setTimeout(() => {
            if (this.unsettled !== claimed) return;
            this.unsettled = null;
            applyStatus(claimed);
        }, CLAIM_SETTLE_MS);
    }

    /** The claim, or null after telling the citizen why there is none. */
    async claim () {
        try {
            const claimed = await this.claimer.ensure();
            chat.set({ retrying: false });
            return claimed;
        } catch (e) {
            if (!e.superseded) chat.set({ phase: 'error', error: e.reason ?? 'failed', retrying: false });
            return null;
        }
    }

    /** "Connection restored" is news for a moment, not a state. */
    connectionBack () {
        chat.set({ connection: 'back' });
        clearTimeout(this.backTimer);
        this.backTimer = setTimeout(() => {
            if (chat.get('connection') === 'back') chat.set({ connection: 'online' });
        }, BACK_NOTICE_MS);
    }

    onConnectionLost () {
        chat.set({ connection: 'lost' });
    }

    onDisconnected () {
        if (chat.get('stopping') || ['ended', 'error'].includes(chat.get('phase'))) return;
        this.retries = (this.retries ?? 0) + 1;
        if (this.retries > RETRIES) {
            chat.set({ connection: 'offline' });
            return;
        }
        chat.set({ connection: 'lost' });
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
            if (!this.api.connection.connected()) this.api.user.login().catch(() => this.onDisconnected());
        }, RETRY_MS);
    }

    /** §2 headlines from the component (and from nobody else). */
    listenForStatus () {
        this.api.listen.stanza('message', { ns: NS, type: 'headline', from: this.component }, (stanza) => {
            const status = parseStatus(stanza);
            if (status) {
                this.unsettled = null;
                if (status.state === 'ended') this.finish(status);
                else applyStatus(status);
            }
            const auth = parseAuth(stanza);
            if (auth) applyAuth(auth);
            return true;
        });
    }

    /**
     * While the details are on their way, ask now and then whether they arrived, so the
     * page stops saying "still being retrieved" once it is no longer true.
     */
    async watchDetails (url) {
        for (let i = 0; chat.get('details') === 'pending'; i++) {
            await new Promise((resolve) => setTimeout(resolve, DETAILS_POLL_MS[Math.min(i, DETAILS_POLL_MS.length - 1)]));
            if (['ended', 'error'].includes(chat.get('phase'))) return;
            const status = await fetchDetailsStatus(url);
            if (status) chat.set({ details: status });
        }
    }

    /** Speak the agent's messages in our own live region (not our own echo, not history). */
    announce (attrs) {
        if (!attrs?.body || attrs.sender === 'me' || attrs.is_delayed) return;
        chat.set({ announcement: this.t.new_message(attrs.nick || chat.get('agent') || '', attrs.body) });
    }

    /** §11 "No, I'd rather not": the agent hears it; the page says so at once. */
    async declineAuth () {
        const auth = chat.get('auth');
        chat.set({ auth: { ...auth, state: 'declined', url: '' } });
        try {
            await sendAuthCancel(this.api, this.component);
        } catch { /* over meanwhile (expired, withdrawn): the component tells us how */ }
    }

    /** The stop button: §6 end, then log out and forget. */
    async stop () {
        chat.set({ stopping: true });
        try {
            if (this.api.connection.connected()) await sendEnd(this.api, this.component);
        } finally {
            await this.finish({ state: 'ended', by: 'citizen' });
        }
    }

    /** The chat is over: keep the conversation in page memory, then log out and forget. */
    async finish (status) {
        if (chat.get('transcript') === null) {
            const room = this.room && await this.api.rooms.get(this.room);
            chat.set({ transcript: snapshot(room, (nick) => this.shownNick(nick)) });
        }
        applyStatus(status);
        await this.leave();
    }

    /** The protocol's nick of the citizen, in the page's language. */
    shownNick (nick) {
        return nick === CITIZEN_NICK ? this.t.citizen_nick : nick;
    }

    /** Log out and forget everything this tab kept about the chat. */
    leave () {
        this.leaving ??= (async () => {
            chat.set({ stopping: true });
            try {
                if (this.api.connection.connected()) await this.api.user.logout();
            } finally {
                sessionStorage.clear();
            }
        })();
        return this.leaving;
    }
}
