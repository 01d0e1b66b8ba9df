/**
 * idchat-agent: the KCC agent's console on Converse's fullscreen view. Availability and
 * capacity as directed presence to the component (docs/protocol.md §3), offers with a
 * countdown, a chime and accept/decline (§4), an identity card per chat (§5), ending a
 * chat (§6), and the open chats drawn again after a reload. Wires only; the behaviour is
 * in console.js, the protocol in api.js and parsers.js, the views in components/.
 */
import converse, { html, nothing } from '../converse.js';
import { redrawAvatars, repairOccupantList } from '../shared/converse-elements.js';
import { AgentConsole } from './console.js';
import { cards, desk, loadPreferences, offers } from './state.js';
import { texts } from './texts.js';
import { unlockOnFirstGesture } from './sound.js';
import IdchatAgentDesk from './components/desk.js';
import IdchatOffer from './components/offer.js';
import IdchatIdentityCard from './components/identity-card.js';

converse.plugins.add('idchat-agent', {
    dependencies: ['converse-muc', 'converse-muc-views'],

    initialize () {
        const { api } = this._converse;
        api.settings.extend({
            idchat_component_domain: '',
            idchat_lang: 'nl',
            idchat_purposes: {},
        });
        loadPreferences();
        unlockOnFirstGesture();

        redefineConverseElements(api, texts(api.settings.get('idchat_lang')));
        redrawAvatars(api);
        repairOccupantList(api);
        api.elements.define('idchat-agent-desk', IdchatAgentDesk);
        api.elements.define('idchat-offer', IdchatOffer);
        api.elements.define('idchat-identity-card', IdchatIdentityCard);

        const agentConsole = new AgentConsole(this._converse);
        api.listen.on('connected', () => agentConsole.onConnected());
        api.listen.on('reconnected', () => agentConsole.onConnected());
        api.listen.on('disconnected', () => agentConsole.onDisconnected());
        api.listen.on('logout', () => agentConsole.onLogout());
        desk.on('availability-requested', () => agentConsole.setAvailability());
        offers.on('accept-requested', (offer) => agentConsole.accept(offer));
        offers.on('decline-requested', (offer) => agentConsole.decline(offer));
        offers.on('expired', (offer) => offers.remove(offer));
        cards.on('end-requested', (card) => agentConsole.end(card));
    },
});

/**
 * Converse's fullscreen footer loads sponsor logos from the internet and its navbar and
 * logo link out: none of that here. Every room heading carries its chat's identity card.
 */
function redefineConverseElements (api, t) {
    // Agents keep no contact list either: chats come as offers.
    for (const name of ['converse-footer', 'converse-controlbox-navbar', 'converse-roster']) {
        const Original = api.elements.registry[name];
        api.elements.define(name, class extends Original {
            render () { return nothing; }
        });
    }
    const Logo = api.elements.registry['converse-brand-logo'];
    api.elements.define('converse-brand-logo', class extends Logo {
        render () { return html`<h2 class="idchat-login-title">${t.login_title}</h2>`; }
    });
    const Heading = api.elements.registry['converse-muc-heading'];
    api.elements.define('converse-muc-heading', class extends Heading {
        render () {
            return html`${super.render()}
                <idchat-identity-card class="col-12" room="${this.getAttribute('jid')}"></idchat-identity-card>`;
        }
    });
}
