/**
 * <idchat-transfer chat="…">: on an open chat's card, "Transfer" and its inline form — to
 * a colleague on duty or to the front of a topic's queue, with an optional note for
 * agents only — then, while a colleague is being offered the chat, what it waits for.
 */
import { IdchatElement } from '../../shared/element.js';
import { cards } from '../state.js';
import { transferTexts } from '../transfer-texts.js';
import { tplTransfer } from '../templates/transfer.js';

export default class IdchatTransfer extends IdchatElement {
    /** The console's TransferDesk (agent/transfer.js), set when the plugin initialises. */
    static desk = null;

    open = false;
    mode = 'colleague';
    colleagues = null; // null: being fetched; then [{ jid, nick, free }]
    loadFailed = false;
    error = '';

    initialize () {
        this.listenTo(cards, 'change');
        this.listenTo(cards, 'remove');
    }

    get card () {
        return cards.get(this.getAttribute('chat'));
    }

    render () {
        const card = this.card;
        const t = transferTexts(document.documentElement.lang);
        return card ? tplTransfer(t, card.toJSON(), this, IdchatTransfer.desk?.topics() ?? []) : '';
    }

    async show () {
        Object.assign(this, { open: true, mode: 'colleague', colleagues: null, loadFailed: false, error: '' });
        this.focusNext = '[name=transfer-mode]';
        this.requestUpdate();
        await this.load();
    }

    async load () {
        try {
            this.colleagues = await IdchatTransfer.desk.colleagues();
            this.loadFailed = false;
        } catch {
            this.colleagues = [];
            this.loadFailed = true;
        }
        this.requestUpdate();
    }

    choose (mode) {
        this.mode = mode;
        this.error = '';
        this.requestUpdate();
    }

    async withdraw () {
        const card = this.card;
        if (!card) return;
        this.focusNext = '[data-action=transfer]';
        await IdchatTransfer.desk.withdraw(card);
        this.requestUpdate();
    }

    cancel () {
        this.open = false;
        this.error = '';
        this.focusNext = '[data-action=transfer]';
        this.requestUpdate();
    }

    async submit (ev) {
        ev.preventDefault();
        const form = ev.target;
        const note = form.elements['transfer-note'].value.trim();
        const target = this.mode === 'colleague'
            ? { agent: form.elements['transfer-colleague']?.value || '' }
            : { purpose: form.elements['transfer-topic']?.value || '' };
        if (!target.agent && !target.purpose) {
            this.error = transferTexts(document.documentElement.lang).failed['bad-request'];
            this.focusNext = '.idchat-transfer__error';
            this.requestUpdate();
            return;
        }
        target.agentNick = this.colleagues?.find((c) => c.jid === target.agent)?.nick;
        const card = this.card;
        if (!card) return;
        this.error = await IdchatTransfer.desk.send(card, { ...target, note });
        if (this.error) {
            this.focusNext = '.idchat-transfer__error';
        } else {
            this.open = false;
            this.focusNext = '.idchat-transfer__pending';
        }
        this.requestUpdate();
    }

    updated () {
        if (this.focusNext) {
            this.querySelector(this.focusNext)?.focus();
            this.focusNext = null;
        }
    }
}
