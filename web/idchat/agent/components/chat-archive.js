/**
 * <idchat-chat-archive>: the main area when no open chat is on screen — an ended chat's
 * conversation, read-only, until the agent closes it; or a word that nothing is open.
 */
import { nothing } from '../../converse.js';
import { IdchatElement } from '../../shared/element.js';
import { cards, desk, ended } from '../state.js';
import { texts } from '../texts.js';
import { tplArchive, tplNothingOpen } from '../templates/chat-archive.js';

export default class IdchatChatArchive extends IdchatElement {
    initialize () {
        this.listenTo(desk, 'change:selected');
        this.listenTo(desk, 'change:signin');
        for (const collection of [cards, ended]) {
            for (const name of ['add', 'remove', 'reset']) this.listenTo(collection, name);
        }
    }

    get entry () {
        return ended.get(desk.get('selected'));
    }

    render () {
        const t = texts(document.documentElement.lang);
        const entry = this.entry;
        this.classList.toggle('is-showing', Boolean(entry) || (desk.get('signin') === 'in' && !cards.length));
        if (entry) return tplArchive(t, entry.toJSON(), this);
        if (desk.get('signin') === 'in' && !cards.length) return tplNothingOpen(t);
        return nothing;
    }

    updated () {
        if (this.focusNext) {
            this.querySelector(this.focusNext)?.focus();
            this.focusNext = null;
        }
    }

    close () {
        desk.trigger('dismiss-requested', this.entry.id);
    }
}
