/**
 * The citizen's chat session: claim before joining (docs/protocol.md §1), follow the
 * component's status headlines (§2), come back after a reload or a lost connection, and
 * end it on request (§6). It updates the chat model in state.js; elements render it.
 */
import { NS } from '../shared/protocol.js';
import { Claimer, sendEnd } from './api.js';
import { parseStatus } from './parsers.js';
import { applyStatus, chat } from './state.js';
import { texts } from './texts.js';

const BACK_NOTICE_MS = 8000;

export class CitizenSession {
    constructor (api) {
        this.api = api;
        this.component = api.settings.get('idchat_component_domain');
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
        if (chat.get('connection') !== 'online') this.connectionBack();
        this.listenForStatus();
        if (['ended', 'error'].includes(chat.get('phase'))) return;
        if (chat.get('phase') === 'connecting') chat.set({ phase: 'claiming' });
        const claimed = await this.claim();
        if (!claimed) return;
        applyStatus(claimed);
        // converse-singleton only lets the auto-join room in: the claimed room becomes it.
        this.api.settings.set('auto_join_rooms', [{ jid: claimed.room, nick: claimed.nick }]);
        if (!(await this.api.rooms.get(claimed.room))) {
            await this.api.rooms.open(claimed.room, { nick: claimed.nick }, true);
        }
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
        if (!chat.get('stopping') && chat.get('phase') !== 'ended') chat.set({ connection: 'offline' });
    }

    /** §2 headlines from the component. */
    listenForStatus () {
        this.api.listen.stanza('message', { ns: NS, type: 'headline', from: this.component }, (stanza) => {
            const status = parseStatus(stanza);
            if (status) {
                applyStatus(status);
                if (status.state === 'ended') this.leave();
            }
            return true;
        });
    }

    /** Speak the agent's messages in our own live region (not our own echo, not history). */
    announce (attrs) {
        if (!attrs?.body || attrs.sender === 'me' || attrs.is_delayed) return;
        const t = texts(this.api.settings.get('idchat_lang'));
        chat.set({ announcement: t.new_message(attrs.nick || chat.get('agent') || '', attrs.body) });
    }

    /** The stop button: §6 end, then log out and forget. */
    async stop () {
        chat.set({ stopping: true });
        try {
            if (this.api.connection.connected()) await sendEnd(this.api, this.component);
        } finally {
            chat.set({ phase: 'ended', by: 'citizen' });
            await this.leave();
        }
    }

    /** Log out and forget everything this tab kept about the chat. */
    async leave () {
        chat.set({ stopping: true });
        try {
            if (this.api.connection.connected()) await this.api.user.logout();
        } finally {
            sessionStorage.clear();
        }
    }
}
