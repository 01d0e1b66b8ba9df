/**
 * idchat-agent: the KCC agent's console on Converse's fullscreen view. Its own sign-in
 * and logout, availability and capacity as directed presence to the component
 * (docs/protocol.md §3), offers with a countdown, a chime and accept/decline (§4), an
 * identity card per chat (§5), ending a chat (§6), the open chats drawn again after a
 * reload, ended chats kept read-only until the agent closes them, and for supervisors the
 * team overview (§9). Wires only; the behaviour is in console.js, signin.js and
 * supervisor.js, the protocol in api.js and parsers.js, the views in components/.
 */
import converse, { dayjs, html, nothing } from '../converse.js';
import { noAboutDialog, plainMessageForm, plainMessages, redrawAvatars, scrollableMessages, repairOccupantList } from '../shared/converse-elements.js';
import { CITIZEN_NICK, showNicks, writeDatesOut } from '../shared/display.js';
import { noEmojiStatistics } from '../shared/converse-settings.js';
import { AgentConsole } from './console.js';
import { SignIn } from './signin.js';
import { Supervision } from './supervisor.js';
import { CredentialSignIn } from './credential.js';
import { cannedReplies, loadReplies } from './components/canned-replies.js';
import { cards, desk, loadPreferences, offers, savePreferences } from './state.js';
import { texts } from './texts.js';
import { unlockOnFirstGesture } from './sound.js';
import IdchatAgentDesk from './components/desk.js';
import IdchatChatArchive from './components/chat-archive.js';
import IdchatOffer from './components/offer.js';
import IdchatIdentityCard from './components/identity-card.js';
import IdchatSupervisorOverview from './components/overview.js';

converse.plugins.add('idchat-agent', {
    dependencies: ['converse-muc', 'converse-muc-views'],

    initialize () {
        const { _converse } = this;
        const { api } = _converse;
        api.settings.extend({
            idchat_component_domain: '',
            idchat_agent_domain: '',
            idchat_lang: 'nl',
            idchat_purposes: {},
            idchat_signin: 'password', // password | oidc (agents.mode)
            idchat_attribute_labels: {},
            idchat_auth_in_chat: false, // docs/protocol.md §11: offered only when the service has a core
        });
        loadPreferences();
        desk.set({ auth_in_chat: api.settings.get('idchat_auth_in_chat') === true });
        unlockOnFirstGesture();
        const t = texts(api.settings.get('idchat_lang'));
        Object.assign(t.attribute_labels, api.settings.get('idchat_attribute_labels'));

        redefineConverseElements(api);
        redrawAvatars(api);
        repairOccupantList(api);
        plainMessages(api);
        noAboutDialog(api);
        plainMessageForm(api, t);
        cannedReplies(api, t, api.settings.get('idchat_lang'));
        scrollableMessages(api, t);
        writeDatesOut(dayjs);
        noEmojiStatistics(this._converse);
        showNicks(_converse.exports, {
            shown: (nick) => (nick === CITIZEN_NICK ? t.citizen_nick : nick),
            infoOnMembershipMove: (nick) => (nick === CITIZEN_NICK ? t.citizen_reloaded : undefined),
        });
        api.elements.define('idchat-agent-desk', IdchatAgentDesk);
        api.elements.define('idchat-chat-archive', IdchatChatArchive);
        api.elements.define('idchat-offer', IdchatOffer);
        api.elements.define('idchat-identity-card', IdchatIdentityCard);
        api.elements.define('idchat-supervisor-overview', IdchatSupervisorOverview);

        const agentConsole = new AgentConsole(_converse);
        const oidc = api.settings.get('idchat_signin') === 'oidc';
        desk.set({ oidc });
        const signIn = oidc ? new CredentialSignIn(_converse) : new SignIn(_converse);
        const supervision = new Supervision(_converse);
        api.listen.on('initialized', () => signIn.resume());
        const fetchReplies = () => loadReplies(api, api.settings.get('idchat_component_domain')).catch(() => {});
        api.listen.on('connected', fetchReplies);
        api.listen.on('reconnected', fetchReplies);
        api.listen.on('connected', () => {
            signIn.onConnected(agentConsole.nick());
            agentConsole.onConnected();
            supervision.onConnected();
        });
        api.listen.on('reconnected', () => {
            desk.set({ reconnecting: false });
            agentConsole.onConnected();
            supervision.onConnected();
        });
        api.listen.on('will-reconnect', () => desk.set({ reconnecting: true }));
        api.listen.on('disconnected', () => {
            signIn.onDisconnected();
            agentConsole.onDisconnected();
            supervision.onDisconnected();
        });
        api.listen.on('logout', () => agentConsole.onLogout());
        api.listen.on('chatRoomInitialized', (muc) => agentConsole.watchRoom(muc));
        _converse.state.connfeedback.on('change:connection_status',
                                        (m) => signIn.onStatus(m.get('connection_status')));

        desk.on('login-requested', ({ username, password }) => signIn.login(username, password));
        desk.on('logout-requested', () => {
            supervision.leave();
            signIn.logout();
        });
        desk.on('select-requested', (id) => {
            desk.set({ view: 'chats' });
            agentConsole.select(id);
        });
        desk.on('view-requested', (view) => {
            desk.set({ view });
            savePreferences();
            desk.trigger('view-chosen');
        });
        desk.on('dismiss-requested', (id) => agentConsole.dismiss(id));
        desk.on('availability-requested', () => agentConsole.setAvailability());
        offers.on('accept-requested', (offer) => {
            desk.set({ view: 'chats' }); // the chat taken comes on screen
            savePreferences();
            agentConsole.accept(offer);
        });
        offers.on('decline-requested', (offer) => agentConsole.decline(offer));
        offers.on('expired', (offer) => offers.remove(offer));
        cards.on('end-requested', (card) => agentConsole.end(card));
        cards.on('auth-methods-requested', (card) => agentConsole.askAuthMethods(card));
        cards.on('auth-requested', (card, method) => agentConsole.requestAuth(card, method));
        cards.on('auth-withdraw-requested', (card) => agentConsole.withdrawAuth(card));
    },
});

/**
 * The console draws its own sign-in, account, availability and chat list (the desk):
 * Converse's control box — its login form, profile and status chooser, rooms list with
 * "add groupchat", footer with logos from the internet — renders nothing. Each room's
 * heading is the chat's identity card.
 */
function redefineConverseElements (api) {
    for (const name of ['converse-footer', 'converse-controlbox-navbar', 'converse-roster', 'converse-login-form',
                        'converse-user-profile', 'converse-rooms-list', 'converse-controlbox-buttons',
                        'converse-brand-logo', 'converse-headlines-feeds-list']) {
        const Original = api.elements.registry[name];
        if (!Original) continue;
        api.elements.define(name, class extends Original {
            render () { return nothing; }
        });
    }
    const Heading = api.elements.registry['converse-muc-heading'];
    api.elements.define('converse-muc-heading', class extends Heading {
        render () {
            return html`<idchat-identity-card class="col-12" room="${this.getAttribute('jid')}"></idchat-identity-card>`;
        }
    });
}
