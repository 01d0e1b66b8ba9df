/**
 * <idchat-supervisor-overview>: the team overview in the console's main area, for a
 * supervisor who chose it (the desk's "View"). It covers the chat area while shown; the
 * chats behind it are hidden from the keyboard and from assistive technology too.
 */
import { nothing } from '../../converse.js';
import { IdchatElement } from '../../shared/element.js';
import { desk, overview } from '../state.js';
import { texts } from '../texts.js';
import { tplOverview } from '../templates/overview.js';

export default class IdchatSupervisorOverview extends IdchatElement {
    initialize () {
        this.listenTo(desk, 'change:signin');
        this.listenTo(desk, 'change:supervisor');
        this.listenTo(desk, 'change:view');
        this.listenTo(desk, 'view-chosen', () => { this.focusTitle = true; this.requestUpdate(); });
        this.listenTo(overview, 'change');
    }

    get shown () {
        return desk.get('signin') === 'in' && desk.get('supervisor') === 'yes' && desk.get('view') === 'overview';
    }

    render () {
        const shown = this.shown;
        this.classList.toggle('is-showing', shown);
        this.closest('.idchat-agent')?.classList.toggle('is-overview', shown);
        if (!shown) return nothing;
        const lang = document.documentElement.lang;
        return tplOverview(texts(lang), lang, overview.attributes);
    }

    updated () {
        if (this.focusTitle && this.shown) this.querySelector('#idchat-overview-title')?.focus();
        this.focusTitle = false;
    }
}
