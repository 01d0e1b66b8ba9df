/**
 * <idchat-identity-card room="…">: the citizen's details for the agent of that room's
 * chat, updated live when the component pushes them. Renders nothing for other rooms.
 */
import { nothing } from '../../converse.js';
import { IdchatElement } from '../../shared/element.js';
import { cards, chatLabel, chatOfRoom, desk } from '../state.js';
import { texts } from '../texts.js';
import { tplIdentityCard } from '../templates/identity-card.js';

export default class IdchatIdentityCard extends IdchatElement {
    confirming = false;

    initialize () {
        this.listenTo(cards, 'add');
        this.listenTo(cards, 'remove');
        this.listenTo(cards, 'reset');
        this.listenTo(cards, 'change');
    }

    get card () {
        return chatOfRoom(this.getAttribute('room'));
    }

    render () {
        const card = this.card;
        const t = texts(document.documentElement.lang);
        return card
            ? tplIdentityCard(t, { ...card.toJSON(), auth_offered: desk.get('auth_in_chat') }, this, chatLabel(card, t))
            : nothing;
    }

    confirm () {
        this.confirming = true;
        this.focusNext = '[data-action="end-no"]';
        this.requestUpdate();
    }

    cancel () {
        this.confirming = false;
        this.focusNext = '[data-action="end"]';
        this.requestUpdate();
    }

    end () {
        this.confirming = false;
        const card = this.card;
        if (card) cards.trigger('end-requested', card);
        this.requestUpdate();
    }

    /** §11: ask the citizen to log in — first which methods, then the request. */
    askAuth () {
        const card = this.card;
        if (card) cards.trigger('auth-methods-requested', card);
    }

    requestAuth (method) {
        const card = this.card;
        if (card && method) cards.trigger('auth-requested', card, method);
    }

    withdrawAuth () {
        const card = this.card;
        if (card) cards.trigger('auth-withdraw-requested', card);
    }

    closeAuth () {
        this.card?.set({ auth: null });
    }

    updated () {
        if (this.focusNext) {
            this.querySelector(this.focusNext)?.focus();
            this.focusNext = null;
        }
    }
}
