/**
 * <idchat-citizen>: the citizen's whole chat — status, conversation, stop control and
 * the message announcer — drawn from the chat state model.
 */
import { html } from '../../converse.js';
import { IdchatElement } from '../../shared/element.js';
import { chat } from '../state.js';
import { texts } from '../texts.js';
import { tplAnnouncer, tplConversation, tplStatus, tplStop } from '../templates/citizen.js';

export default class IdchatCitizen extends IdchatElement {
    confirming = false;

    initialize () {
        this.listenTo(chat, 'change');
    }

    render () {
        const t = texts(this.language);
        const s = { ...chat.attributes, lang: this.language };
        return html`
            ${tplStatus(t, s)}
            ${tplConversation(t, s)}
            <div class="idchat-actions">${tplStop(t, s, this)}</div>
            ${tplAnnouncer(s)}`;
    }

    get language () {
        return this.getAttribute('lang') || document.documentElement.lang || 'nl';
    }

    /** The inline confirmation takes the focus, and gives it back when cancelled. */
    confirm () {
        this.confirming = true;
        this.focusNext = '[data-action="stop-no"]';
        this.requestUpdate();
    }

    cancel () {
        this.confirming = false;
        this.focusNext = '[data-action="stop"]';
        this.requestUpdate();
    }

    stop () {
        this.confirming = false;
        this.focusNext = '.idchat-status'; // where the outcome will be told
        chat.trigger('stop-requested');
    }

    updated () {
        if (this.focusNext) {
            this.querySelector(this.focusNext)?.focus();
            this.focusNext = null;
        }
    }
}
