/**
 * <idchat-agent-desk>: sign-in (or who is signed in, and logging out), availability and
 * capacity, notices, the standing offers and the agent's chats. A new offer is announced
 * (role=alert) and counted in the page title; console.js sounds the chime.
 */
import { IdchatElement } from '../../shared/element.js';
import { cards, desk, ended, offers } from '../state.js';
import { texts } from '../texts.js';
import { tplDesk } from '../templates/desk.js';

export default class IdchatAgentDesk extends IdchatElement {
    alert = '';

    initialize () {
        this.baseTitle ??= document.title;
        this.listenTo(desk, 'change');
        this.listenTo(offers, 'add', (offer) => this.#announce(
            this.t.offer_title(offer.get('purpose_label') || offer.get('purpose'))));
        for (const collection of [offers, cards, ended]) {
            for (const name of ['add', 'remove', 'reset']) this.listenTo(collection, name);
        }
        this.listenTo(cards, 'change');
    }

    get t () {
        return texts(document.documentElement.lang);
    }

    get offers () {
        return offers.models;
    }

    get cards () {
        return cards.models;
    }

    get ended () {
        return ended.models;
    }

    render () {
        return tplDesk(this.t, desk.attributes, this);
    }

    updated () {
        document.title = offers.length ? `(${offers.length}) ${this.baseTitle}` : this.baseTitle;
        this.classList.toggle('has-offers', offers.length > 0);
        // After a failed sign-in the focus goes back to the field to correct; once signed
        // in, to the first control of the desk.
        const signin = desk.get('signin');
        if (signin !== this.lastSignin) {
            if (signin === 'out' && desk.get('signin_error')) {
                this.querySelector(desk.get('signin_error') === 'credentials' ? '#idchat-password' : '#idchat-username')?.focus();
            } else if (signin === 'in' && this.lastSignin === 'signing-in') {
                this.querySelector('[data-action=availability]')?.focus();
            }
            this.lastSignin = signin;
        }
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

    submitLogin (ev) {
        ev.preventDefault();
        const form = ev.target;
        const username = form.elements.username.value;
        const password = form.elements.password.value;
        form.elements.password.value = ''; // not kept in the page either
        desk.trigger('login-requested', { username, password });
    }

    logout () {
        desk.trigger('logout-requested');
    }

    select (id) {
        desk.trigger('select-requested', id);
    }

    setAvailable (available) {
        desk.set({ available });
        desk.trigger('availability-requested');
    }

    showView (view) {
        desk.trigger('view-requested', view);
    }

    setMaxChats (max_chats) {
        desk.set({ max_chats });
        desk.trigger('availability-requested');
    }
}
