/**
 * The agent console's behaviour (docs/protocol.md §3–§6): what happens on (re)connect, on
 * the component's presence and headlines, and when the agent accepts, declines, ends or
 * changes availability. It updates the models in state.js; the elements only render them.
 */
import { NS } from '../shared/protocol.js';
import { parseAuth } from '../shared/auth.js';
import { fetchAttributes, fetchAuthMethods, sendAccept, sendAuthCancel, sendAuthenticate, sendAvailability,
         sendDecline, sendEnd } from './api.js';
import { parseAgentPresence, parseAttributes, parseEnded, parseOffer, parseRevoke } from './parsers.js';
import { cards, chatOfRoom, desk, ended, offers, savePreferences } from './state.js';
import { purposeLabel, texts } from './texts.js';
import { chime } from './sound.js';
import { CITIZEN_NICK } from '../shared/display.js';
import { snapshot } from '../shared/transcript.js';

export class AgentConsole {
    constructor (_converse) {
        this._converse = _converse;
        this.api = _converse.api;
        this.component = this.api.settings.get('idchat_component_domain');
        this.t = texts(this.api.settings.get('idchat_lang'));
        this.conversations = new Map(); // room JID → transcript entries
    }

    label (tag) {
        return purposeLabel(this.api.settings.get('idchat_purposes'), tag);
    }

    /** The agent's display name: their profile's nickname, else their account name. */
    nick () {
        const profileNick = this._converse.state.profile?.getNickname?.();
        if (profileNick) return profileNick;
        const node = (this._converse.session?.get('bare_jid') || '').split('@')[0];
        return node ? node.charAt(0).toUpperCase() + node.slice(1) : 'Medewerker';
    }

    /** Stanza handlers die with a connection: register them on every (re)connect. */
    onConnected () {
        const { api, component: from } = this;
        desk.set({ connected: true, confirmed: false, forbidden: false });
        this.awaiting = 0; // answers to presences of an earlier connection will not come
        api.listen.stanza('presence', { from }, (stanza) => { this.onDeskPresence(stanza); return true; });
        api.listen.stanza('message', { ns: NS, type: 'headline', from }, (stanza) => {
            this.onHeadline(stanza);
            return true;
        });
        this.announceAvailability();
    }

    onDisconnected () {
        desk.set({ connected: false, confirmed: false });
        offers.reset();
    }

    onLogout () {
        cards.reset(); // the attributes leave the browser with the cards
        offers.reset();
        ended.reset();
        this.conversations.clear();
    }

    /** The protocol's nick of the citizen, in the console's language. */
    shownNick (nick) {
        return nick === CITIZEN_NICK ? this.t.citizen_nick : nick;
    }

    /** Follow a room: its unread count on its card, and which chat is on screen. */
    watchRoom (muc) {
        const update = () => {
            const card = chatOfRoom(muc.get('jid'));
            card?.set({ unread: muc.get('num_unread_general') || 0 });
            if (card && !muc.get('hidden')) desk.set({ selected: card.id });
        };
        muc.on('change:num_unread_general', update);
        muc.on('change:hidden', update);
        update();
        // The conversation so far, kept in page memory: Converse forgets its rooms when it
        // gives up a connection, and a chat may end (or go elsewhere) meanwhile. A room that
        // Converse emptied or made anew on a reconnect shows less than was kept: the longer
        // stays (within one chat, messages only come on top).
        const jid = muc.get('jid');
        muc.messages.on('add', () => {
            const now = snapshot(muc, (nick) => this.shownNick(nick));
            if (now.length >= (this.conversations.get(jid)?.length ?? 0)) this.conversations.set(jid, now);
        });
    }

    /** Put a chat on screen: an open one in Converse's view, an ended one read-only. */
    async select (id) {
        desk.set({ selected: id });
        const card = cards.get(id);
        if (card) await this.api.rooms.open(card.get('room'), {}, true);
    }

    /** The agent closes an ended conversation: its messages leave the page. */
    dismiss (id) {
        ended.remove(id);
        if (desk.get('selected') === id) {
            const next = cards.last() ?? ended.last();
            if (next) this.select(next.id); else desk.set({ selected: '' });
        }
    }

    /** §3: every presence to the component also asks it which chats are still ours. */
    announceAvailability () {
        if (!this.api.connection.connected()) return;
        this.presenceSentAt = Date.now();
        this.awaiting = (this.awaiting ?? 0) + 1;
        sendAvailability(this.api, this.component, {
            available: desk.get('available'), maxChats: desk.get('max_chats'), nick: this.nick() });
    }

    setAvailability () {
        savePreferences();
        this.announceAvailability();
    }

    onDeskPresence (stanza) {
        if (stanza.getAttribute('type') === 'error') {
            desk.set({ forbidden: true, confirmed: false });
            return;
        }
        const state = parseAgentPresence(stanza);
        if (!state) return;
        // The switch and the capacity are the agent's own choice: a late answer to an
        // earlier presence must not flip them back. The answer brings the load and chats.
        desk.set({ confirmed: true, active: state.active });
        state.chats.forEach((c) => this.restoreChat(c));
        // A chat the component no longer counts as ours went to someone else (e.g. after
        // the grace period of a lost connection): its card goes, its conversation stays.
        // Only the answer to our latest presence counts, and only for chats we had before we
        // sent it: an older answer may have been written before a chat was accepted.
        this.awaiting = Math.max(0, (this.awaiting ?? 0) - 1);
        if (this.awaiting > 0) return;
        const listed = new Set(state.chats.map((c) => c.chat));
        cards.filter((card) => !listed.has(card.id) && card.get('since_ms') < this.presenceSentAt)
            .forEach((card) => this.closeChat(card.id, 'moved'));
    }

    /** After a reload: the component's list brings the chat, its room and its card back. */
    async restoreChat ({ chat, room, purpose, auth, auth_method: method }) {
        const card = this.cardFor(chat, room);
        card.set({ purpose, purpose_label: card.get('purpose_label') || this.label(purpose) });
        if (auth === 'requested' && !card.get('auth')) card.set({ auth: { state: 'requested', method } });
        if (!(await this.api.rooms.get(room))) await this.openRoom(room, purpose);
        if (card.get('status') !== 'waiting') return;
        try {
            const attrs = await fetchAttributes(this.api, this.component, chat);
            if (attrs) this.applyAttributes(attrs);
        } catch { /* the card keeps saying it waits; a push may still come */ }
    }

    cardFor (chat, room = `${chat}@${this.api.settings.get('muc_domain')}`) {
        if (!cards.get(chat)) ended.remove(chat); // a chat handed back to us is live again
        return cards.get(chat) ?? cards.add({ id: chat, room, status: 'waiting', attributes: [], unread: 0,
                                              since_ms: Date.now() });
    }

    openRoom (room, purpose) {
        return this.api.rooms.open(room, { nick: this.nick(), name: this.label(purpose) }, true);
    }

    onHeadline (stanza) {
        const offer = parseOffer(stanza);
        if (offer) return this.onOffer(offer);
        const revoked = parseRevoke(stanza);
        if (revoked) return this.onRevoke(revoked);
        const attrs = parseAttributes(stanza);
        if (attrs) return this.applyAttributes(attrs);
        const ended = parseEnded(stanza);
        if (ended) return this.closeChat(ended.chat, ended.by);
        const auth = parseAuth(stanza);
        if (auth) return cards.get(auth.chat)?.set({ auth: { state: auth.state, method: auth.method } });
    }

    /** §11: the methods the core allows for this chat, for the agent to choose from. */
    async askAuthMethods (card) {
        card.set({ auth: { state: 'busy' } });
        try {
            card.set({ auth: { state: 'choosing', methods: await fetchAuthMethods(this.api, this.component, card.id) } });
        } catch (e) {
            card.set({ auth: { state: 'error', error: e.condition } });
        }
    }

    async requestAuth (card, method) {
        card.set({ auth: { state: 'busy', method } });
        try {
            await sendAuthenticate(this.api, this.component, card.id, method);
            // A verdict may already have come (a very fast login): keep it.
            if (card.get('auth')?.state === 'busy') card.set({ auth: { state: 'requested', method } });
        } catch (e) {
            card.set({ auth: { state: 'error', error: e.condition, method } });
        }
    }

    async withdrawAuth (card) {
        const { method } = card.get('auth') ?? {};
        try {
            await sendAuthCancel(this.api, this.component, card.id);
        } catch { /* over meanwhile: its outcome arrives as a headline */ }
        if (card.get('auth')?.state === 'requested') card.set({ auth: { state: 'cancelled', method } });
    }

    onOffer (offer) {
        offers.add({ ...offer, purpose_label: this.label(offer.purpose),
                     deadline: Date.now() + offer.timeout * 1000 }, { merge: true });
        chime();
    }

    onRevoke ({ id }) {
        const gone = offers.get(id);
        if (!gone) return;
        offers.remove(gone);
        desk.set({ notice: this.t.offer_revoked(gone.get('purpose_label')) });
    }

    /** §5: the card of a chat, new or pushed again when late details arrive. */
    applyAttributes (attrs) {
        this.cardFor(attrs.chat).set({
            status: attrs.status,
            purpose: attrs.purpose,
            // The console's own label (in its language) before the component's (in its default).
            purpose_label: this.api.settings.get('idchat_purposes')?.[attrs.purpose] || attrs.purpose_label
                || attrs.purpose,
            source: attrs.source,
            verified_at: attrs.verified_at,
            attributes: attrs.attributes,
            transferred_by: attrs.transferred_by,
            transfer_note: attrs.transfer_note,
        });
    }

    async accept (offer) {
        offers.remove(offer);
        try {
            const { room, chat } = await sendAccept(this.api, this.component, offer.id);
            const card = this.cardFor(chat, room);
            card.set({ room, purpose: offer.get('purpose'),
                       purpose_label: card.get('purpose_label') || offer.get('purpose_label') });
            desk.set({ active: desk.get('active') + 1, notice: '' });
            await this.openRoom(room, offer.get('purpose'));
        } catch {
            desk.set({ notice: this.t.accept_failed });
        }
    }

    async decline (offer) {
        offers.remove(offer);
        try {
            await sendDecline(this.api, this.component, offer.id);
        } catch { /* revoked meanwhile: nothing left to decline */ }
    }

    async end (card) {
        try {
            await sendEnd(this.api, this.component, card.id);
            await this.closeChat(card.id, 'agent');
        } catch {
            card.set({ end_failed: true });
        }
    }

    /**
     * §6: the chat is over (or went to another agent). Its card and attribute values leave
     * the page; its conversation stays on screen, read-only, until the agent closes it.
     */
    async closeChat (chat, by, { notice, archived } = {}) {
        const card = cards.get(chat);
        if (!card) return;
        const purpose = card.get('purpose_label') || this.label(card.get('purpose'));
        desk.set({ notice: notice ?? (by === 'moved' ? this.t.moved(purpose) : this.t.ended(purpose, by)),
                   active: Math.max(0, desk.get('active') - 1) });
        const room = await this.api.rooms.get(card.get('room'));
        const wasOnScreen = desk.get('selected') === chat || !room || !room.get('hidden');
        const now = snapshot(room, (nick) => this.shownNick(nick));
        const kept = this.conversations.get(card.get('room')) ?? [];
        this.conversations.delete(card.get('room'));
        ended.add({ id: chat, label: this.t.chat_ref(chat.slice(0, 6)), purpose_label: purpose, by, notice: archived,
                    transcript: now.length >= kept.length ? now : kept });
        cards.remove(card);
        await room?.close();
        if (wasOnScreen) desk.set({ selected: chat });
    }
}
