/**
 * idchat-citizen: the citizen's single embedded room. Claims the chat with the page's
 * ticket before joining (docs/protocol.md §1), follows the component's status headlines
 * (§2), survives reloads and reconnects (a fresh ticket, a new claim), and ends the chat
 * on request (§6). Wires only; the behaviour is in session.js, the views in components/.
 */
import converse, { dayjs, nothing } from '../converse.js';
import { noAboutDialog, plainMessageForm, plainMessages, redrawAvatars, scrollableMessages } from '../shared/converse-elements.js';
import { CITIZEN_NICK, showNicks, writeDatesOut } from '../shared/display.js';
import { noEmojiStatistics } from '../shared/converse-settings.js';
import { CitizenSession } from './session.js';
import { chat } from './state.js';
import { texts } from './texts.js';
import IdchatCitizen from './components/citizen.js';

converse.plugins.add('idchat-citizen', {
    dependencies: ['converse-muc', 'converse-muc-views', 'converse-singleton'],

    initialize () {
        const { api } = this._converse;
        api.settings.extend({
            idchat_component_domain: '',
            idchat_ticket: '',
            idchat_ticket_url: '',
            idchat_details: 'pending',
            idchat_details_url: '',
            idchat_lang: 'nl',
        });
        // converse-singleton insists on one auto-join room at start-up, but the room is only
        // known from the claim: the entry module passes a placeholder, dropped here; the
        // session puts the claimed room in its place.
        api.settings.set('auto_join_rooms', []);
        const t = texts(api.settings.get('idchat_lang'));

        redrawAvatars(api);
        plainMessages(api);
        noAboutDialog(api);
        plainMessageForm(api, t);
        scrollableMessages(api, t);
        // One room, no room heading: it would only show the room's address and a menu.
        const Heading = api.elements.registry['converse-muc-heading'];
        api.elements.define('converse-muc-heading', class extends Heading {
            render () { return nothing; }
        });
        writeDatesOut(dayjs);
        noEmojiStatistics(this._converse);
        showNicks(this._converse.exports, {
            shown: (nick) => (nick === CITIZEN_NICK ? t.citizen_nick : nick),
            infoOnMembershipMove: () => undefined, // the status line tells what happens
        });
        api.elements.define('idchat-citizen', IdchatCitizen);

        const session = new CitizenSession(api);
        chat.set({ details: api.settings.get('idchat_details') });
        api.listen.on('constructedMUCPresence', (_muc, presence) => session.beforeJoin(presence));
        api.listen.on('connected', () => session.onConnected());
        api.listen.on('reconnected', () => session.onConnected());
        api.listen.on('will-reconnect', () => session.onConnectionLost());
        api.listen.on('disconnected', () => session.onDisconnected());
        api.listen.on('message', ({ attrs }) => session.announce(attrs));
        chat.on('stop-requested', () => session.stop());
        chat.on('auth-decline-requested', () => session.declineAuth());
        session.watchDetails(api.settings.get('idchat_details_url'));
    },
});
