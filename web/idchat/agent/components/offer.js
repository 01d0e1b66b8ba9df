/**
 * <idchat-offer>: one offer with a live countdown; it removes itself when time is up.
 */
import { IdchatElement } from '../../shared/element.js';
import { offers } from '../state.js';
import { texts } from '../texts.js';
import { tplOffer } from '../templates/offer.js';

export default class IdchatOffer extends IdchatElement {
    initialize () {
        this.shownAt ??= Date.now();
        this.timer = setInterval(() => this.tick(), 1000);
    }

    disconnectedCallback () {
        super.disconnectedCallback();
        clearInterval(this.timer);
    }

    set model (model) {
        this._model = model;
        this.requestUpdate();
    }

    get model () {
        return this._model;
    }

    left () {
        return Math.max(0, Math.ceil((this.model.get('deadline') - Date.now()) / 1000));
    }

    elapsed () {
        return Math.floor((Date.now() - this.shownAt) / 1000);
    }

    tick () {
        if (!this.model) return;
        if (this.left() <= 0) {
            clearInterval(this.timer);
            offers.trigger('expired', this.model);
        } else {
            this.requestUpdate();
        }
    }

    render () {
        return tplOffer(texts(document.documentElement.lang), this.model.toJSON(), this.left(), this);
    }

    accept () {
        offers.trigger('accept-requested', this.model);
    }

    decline () {
        offers.trigger('decline-requested', this.model);
    }
}
