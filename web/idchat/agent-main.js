/**
 * The agent console's entry module: reads the page's JSON configuration, registers the
 * idchat-agent plugin and starts Converse full screen. The console signs in itself
 * (idchat-agent's desk); a reload signs in again with SCRAM keys kept in sessionStorage.
 */
import converse from './converse.js';
import { readConfig } from './shared/config.js';
import { BLACKLISTED_PLUGINS, COMMON_SETTINGS } from './shared/converse-settings.js';
import './agent/index.js';

const config = readConfig();

converse.initialize({
    ...COMMON_SETTINGS,
    whitelisted_plugins: ['idchat-agent'],
    blacklisted_plugins: [...BLACKLISTED_PLUGINS, 'converse-profile'],
    view_mode: 'fullscreen',
    authentication: 'login',
    auto_login: false,
    // The password is never stored; after a login Converse keeps the SCRAM client and
    // server keys (in sessionStorage, see COMMON_SETTINGS) to sign in again on a reload.
    reuse_scram_keys: true,
    allow_user_trust_override: false,
    default_domain: config.agent_domain,
    locked_domain: config.agent_domain,
    websocket_url: config.websocket_url,
    i18n: config.lang,
    muc_domain: config.muc_domain,
    locked_muc_domain: 'hidden',
    idchat_component_domain: config.component_domain,
    idchat_agent_domain: config.agent_domain,
    idchat_lang: config.lang,
    idchat_purposes: config.purposes ?? {},
    idchat_signin: config.signin ?? 'password',
    idchat_attribute_labels: config.attribute_labels ?? {},
    idchat_auth_in_chat: config.auth_in_chat === true,
});
