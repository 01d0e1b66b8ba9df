/**
 * <idchat-citizen>: the citizen's whole chat — details, status, conversation, stop control
 * and the message announcer — drawn from the chat state model.
 */
import { dayjs, html } from '../../converse.js';
import { IdchatElement } from '../../shared/element.js';
import { saveText, transcriptFilename, transcriptText } from '../../shared/transcript.js';
import { chat } from '../state.js';
import { texts } from '../texts.js';
import { tplAnnouncer, tplAuth, tplConversation, tplDetails, tplEnded, tplStatus, tplStop } from '../templates/citizen.js';

export default class IdchatCitizen extends IdchatElement {
    confirming = false;

    initialize () {
        this.listenTo(chat, 'change');
    }

    render () {
        const t = texts(this.language);
        const s = { ...chat.attributes, lang: this.language, home: homeUrl(this.dataset.home),
                    municipality: this.dataset.municipality || '' };
        return html`
            ${tplDetails(t, s)}
            ${tplStatus(t, s)}
            ${tplAuth(t, s, this)}
            ${tplConversation(t, s)}
            ${tplEnded(t, s, this)}
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

    /** §11: the citizen will not log in now. */
    declineAuth () {
        this.focusNext = '.idchat-auth';
        chat.trigger('auth-decline-requested');
    }

    /** The transcript as a text file, written by the browser: nothing goes to the server. */
    save () {
        const t = texts(this.language);
        const heading = t.transcript_heading(this.dataset.municipality || '', this.dataset.topic || '',
                                             dayjs().format('dddd D MMMM YYYY'));
        saveText(transcriptFilename(t.transcript_file), transcriptText(heading, chat.get('transcript') ?? []));
        chat.set({ saved: true });
    }

    updated () {
        if (this.focusNext) {
            this.querySelector(this.focusNext)?.focus();
            this.focusNext = null;
        }
    }
}

/** The municipality's own page (ui.home_url): only an http(s) address is a way back. */
function homeUrl (value) {
    try {
        const url = new URL(value || '', document.baseURI);
        return value && ['https:', 'http:'].includes(url.protocol) ? url.href : '';
    } catch {
        return '';
    }
}
