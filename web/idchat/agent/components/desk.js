/**
 * <idchat-agent-desk>: availability switch, capacity, notices and the standing offers.
 * A new offer is announced (role=alert) and counted in the page title; console.js sounds
 * the chime.
 */
import { IdchatElement } from '../../shared/element.js';
import { desk, offers } from '../state.js';
import { texts } from '../texts.js';
import { tplDesk } from '../templates/desk.js';

export default class IdchatAgentDesk extends IdchatElement {
    alert = '';

    initialize () {
        this.baseTitle ??= document.title;
        this.listenTo(desk, 'change');
        this.listenTo(offers, 'add', (offer) => this.#announce(
            this.t.offer_title(offer.get('purpose_label') || offer.get('purpose'))));
        this.listenTo(offers, 'remove');
        this.listenTo(offers, 'reset');
    }

    get t () {
        return texts(document.documentElement.lang);
    }

    get offers () {
        return offers.models;
    }

    render () {
        return tplDesk(this.t, desk.attributes, this);
    }

    updated () {
        document.title = offers.length ? `(${offers.length}) ${this.baseTitle}` : this.baseTitle;
        this.classList.toggle('has-offers', offers.length > 0);
    }

    /** Empty the alert region first, so the same words are announced again. */
    #announce (text) {
        this.alert = '';
        this.requestUpdate();
        setTimeout(() => {
            this.alert = text;
            this.requestUpdate();
        }, 100);
    }

    setAvailable (available) {
        desk.set({ available });
        desk.trigger('availability-requested');
    }

    setMaxChats (max_chats) {
        desk.set({ max_chats });
        desk.trigger('availability-requested');
    }
}
