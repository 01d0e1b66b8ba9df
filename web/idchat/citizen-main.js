/**
 * The citizen page's entry module: reads the page's JSON configuration, registers the
 * idchat-citizen plugin and starts Converse as one embedded, anonymous room.
 */
import converse from './converse.js';
import { readConfig } from './shared/config.js';
import { BLACKLISTED_PLUGINS, COMMON_SETTINGS } from './shared/converse-settings.js';
import './citizen/index.js';

const config = readConfig();

converse.initialize({
    ...COMMON_SETTINGS,
    whitelisted_plugins: ['idchat-citizen'],
    blacklisted_plugins: [...BLACKLISTED_PLUGINS, 'converse-roomslist', 'converse-profile'],
    view_mode: 'embedded',
    auto_insert: false, // <idchat-citizen> renders the <converse-root>
    singleton: true,
    // Placeholder for converse-singleton's start-up check; idchat-citizen replaces it with
    // the room named in the claim answer.
    auto_join_rooms: [{ jid: `claim-pending@${config.muc_domain}` }],
    authentication: 'anonymous',
    auto_login: true,
    jid: config.guest_domain,
    websocket_url: config.websocket_url,
    i18n: config.lang,
    allow_logout: false,
    idchat_component_domain: config.component_domain,
    idchat_ticket: config.ticket,
    idchat_ticket_url: `${location.pathname}/ticket`,
    idchat_details: config.details,
    idchat_details_url: `${location.pathname}/details`,
    idchat_lang: config.lang,
});
