/**
 * A supervisor's team overview (docs/protocol.md §9). On every (re)connect the console
 * asks the component for the overview once: a result means this account is a supervisor,
 * `<forbidden/>` that it is not (and the view is not offered). While the overview is on
 * screen the console follows it live: `<watch/>`, renewed before it runs out, and the
 * component pushes the figures as headlines; leaving the view sends `<unwatch/>`. The
 * overview holds counts, times and the agents' own names only: nothing here can open a
 * chat or show a card.
 */
import { NS } from '../shared/protocol.js';
import { fetchOverview, sendUnwatch, sendWatch } from './api.js';
import { parseOverview } from './parsers.js';
import { desk, overview } from './state.js';

const STALE_MS = 30000; // no figures for this long: the overview says it is out of date
const RETRY_MS = 30000;

export class Supervision {
    constructor (_converse) {
        this.api = _converse.api;
        this.component = this.api.settings.get('idchat_component_domain');
        this.watching = false;
        this.renewal = null;
        setInterval(() => this.checkFresh(), 5000);
        desk.on('change:view change:connected', () => this.follow());
        // An account that may not take chats but may see the overview: straight to it.
        desk.on('change:forbidden change:supervisor', () => {
            if (desk.get('supervisor') === 'yes' && desk.get('forbidden')) desk.set({ view: 'overview' });
            if (desk.get('supervisor') === 'no') desk.set({ view: 'chats' });
        });
    }

    /** Stanza handlers die with a connection: register them on every (re)connect. */
    async onConnected () {
        const { api, component: from } = this;
        this.watching = false;
        api.listen.stanza('message', { ns: NS, type: 'headline', from }, (stanza) => {
            const figures = parseOverview(stanza);
            if (figures && desk.get('supervisor') === 'yes') this.show(figures);
            return true;
        });
        try {
            const figures = await fetchOverview(api, this.component);
            desk.set({ supervisor: 'yes' });
            this.show(figures);
        } catch (e) {
            if (e.condition === 'forbidden') {
                desk.set({ supervisor: 'no' });
                overview.set({ figures: null, failed: false, stale: false });
                return;
            }
            overview.set({ failed: true }); // a supervisor after a reconnect stays one
        }
        this.follow();
    }

    onDisconnected () {
        this.watching = false;
        clearTimeout(this.renewal);
        if (overview.get('figures')) overview.set({ stale: true });
    }

    /** Before logging out: the pushes stop at once (best effort, not waited for). */
    leave () {
        if (this.watching && this.api.connection.connected()) {
            sendUnwatch(this.api, this.component).catch(() => {});
        }
        this.watching = false;
        clearTimeout(this.renewal);
    }

    show (figures) {
        const purposes = this.api.settings.get('idchat_purposes');
        // The console's own labels (in its language) before the component's (its default).
        figures.queues.forEach((q) => { q.label = purposes?.[q.purpose] || q.label || q.purpose; });
        overview.set({ figures, received_ms: Date.now(), failed: false, stale: false });
    }

    checkFresh () {
        const received = overview.get('received_ms');
        if (this.watching && received && Date.now() - received > STALE_MS) overview.set({ stale: true });
    }

    /** Watch while the overview is on screen, and only then. */
    async follow () {
        const wanted = desk.get('supervisor') === 'yes' && desk.get('view') === 'overview' && desk.get('connected');
        if (wanted && !this.watching) {
            this.watching = true;
            await this.renew();
            if (Date.now() - overview.get('received_ms') > 2000) { // figures of an earlier look
                try { this.show(await fetchOverview(this.api, this.component)); } catch { /* the pushes follow */ }
            }
        } else if (!wanted && this.watching) {
            this.leave();
        }
    }

    async renew () {
        clearTimeout(this.renewal);
        if (!this.watching) return;
        let next = RETRY_MS;
        try {
            const seconds = await sendWatch(this.api, this.component);
            next = Math.max(30, seconds / 2) * 1000; // well before the component stops pushing
        } catch {
            overview.set({ failed: !overview.get('figures') }); // e.g. too many watchers: try again later
        }
        if (this.watching) this.renewal = setTimeout(() => this.renew(), next);
    }
}
