/**
 * Handing a chat on (docs/protocol.md §12): the colleagues who could take it, the request,
 * and what the component says afterwards. A chat offered to a colleague stays on the
 * card, marked as waiting, until the colleague accepts (then the card and its details
 * leave the page, as at an end) or does not (then nothing changes but a notice).
 */
import { NS } from '../shared/protocol.js';
import { fetchColleagues, ProtocolError, sendTransfer, sendTransferWithdraw } from './api.js';
import { parseTransferred } from './parsers.js';
import { cards, desk } from './state.js';
import { purposeLabel } from './texts.js';
import { transferTexts } from './transfer-texts.js';

export class TransferDesk {
    constructor (_converse, agentConsole) {
        this.api = _converse.api;
        this.console = agentConsole;
        this.component = this.api.settings.get('idchat_component_domain');
    }

    get t () {
        return transferTexts(document.documentElement.lang);
    }

    /** The topics a chat can go to: the console's configured purposes, by label. */
    topics () {
        const purposes = this.api.settings.get('idchat_purposes') || {};
        return Object.keys(purposes).map((tag) => ({ tag, label: purposeLabel(purposes, tag) }))
            .sort((a, b) => a.label.localeCompare(b.label));
    }

    /** Stanza handlers die with a connection: register on every (re)connect. */
    onConnected () {
        this.api.listen.stanza('message', { ns: NS, type: 'headline', from: this.component }, (stanza) => {
            const told = parseTransferred(stanza);
            if (told) this.onTransferred(told);
            return true;
        });
    }

    colleagues () {
        return fetchColleagues(this.api, this.component);
    }

    /** Send the transfer; resolves with '' or the reason it was refused, in words. */
    async send (card, { agent, agentNick, purpose, note }) {
        card.set({ transfer: 'sending', transfer_to: agentNick || '' });
        try {
            await sendTransfer(this.api, this.component, { chat: card.id, agent, purpose, note });
        } catch (e) {
            card.set({ transfer: '' });
            return (e instanceof ProtocolError && this.t.failed[e.condition]) || this.t.failed_other;
        }
        if (agent) {
            if (cards.get(card.id)) card.set({ transfer: 'pending' });
        } else {
            await this.close(card.id, this.t.queued(this.label(card), this.topicLabel(purpose)));
        }
        return '';
    }

    /** Take the transfer back before the colleague answers; the chat stays ours. */
    async withdraw (card) {
        try {
            await sendTransferWithdraw(this.api, this.component, card.id);
        } catch {
            return; // the colleague answered just now: the headline says how
        }
        if (cards.get(card.id)) card.set({ transfer: '' });
        desk.set({ notice: this.t.withdrawn(card.get('transfer_to') || '') });
    }

    onTransferred ({ chat, outcome, agent, purpose }) {
        const card = cards.get(chat);
        if (!card) return;
        if (outcome === 'accepted') {
            this.close(chat, this.t.accepted(this.label(card), agent));
        } else if (outcome === 'queued') {
            this.close(chat, this.t.queued(this.label(card), this.topicLabel(purpose)));
        } else {
            card.set({ transfer: '' });
            desk.set({ notice: this.t.not_taken(agent || card.get('transfer_to') || '', outcome) });
        }
    }

    /** The chat is someone else's now: its card and details leave the page, the
     *  conversation stays read-only until the agent closes it. */
    close (chat, notice) {
        return this.console.closeChat(chat, 'transferred', { notice, archived: this.t.archived });
    }

    /** What the notice calls the chat: its topic, never the citizen's name (the details
     *  leave the page with the card). */
    label (card) {
        return card.get('purpose_label') || this.topicLabel(card.get('purpose'));
    }

    topicLabel (tag) {
        return purposeLabel(this.api.settings.get('idchat_purposes'), tag);
    }
}
