/**
 * The agent console's entry module: reads the page's JSON configuration, registers the
 * idchat-agent plugin and starts Converse full screen with a password login.
 */
import converse from './converse.js';
import { readConfig } from './shared/config.js';
import './agent/index.js';

const config = readConfig();

converse.initialize({
    whitelisted_plugins: ['idchat-agent'],
    blacklisted_plugins: [
        'converse-omemo', 'converse-omemo-views', 'converse-push', 'converse-register',
        'converse-bookmarks', 'converse-bookmark-views', 'converse-dragresize', 'converse-minimize',
        'converse-adhoc-views', 'converse-disco-views', 'converse-mam', 'converse-mam-views',
        'converse-rosterview', // agents need no contact list: chats come as offers
    ],
    view_mode: 'fullscreen',
    authentication: 'login',
    auto_login: false,
    auto_reconnect: true,
    default_domain: config.agent_domain,
    locked_domain: config.agent_domain,
    websocket_url: config.websocket_url,
    discover_connection_methods: false,
    persistent_store: 'sessionStorage',
    clear_cache_on_logout: true,
    allow_user_trust_override: false,
    assets_path: '/converse/',
    i18n: config.lang,
    loglevel: 'warn',
    muc_domain: config.muc_domain,
    locked_muc_domain: 'hidden',
    allow_url_history_change: false,
    allow_muc_invitations: false,
    allow_adhoc_commands: false,
    allow_bookmarks: false,
    allow_registration: false,
    allow_contact_requests: false,
    muc_show_info_messages: [],
    muc_fetch_members: false,
    // Ask for the room's history on joining (the server decides how much it keeps in memory):
    // what the citizen typed before the agent came, what was said before a reload.
    muc_history_max_stanzas: 50,
    muc_instant_rooms: false,
    show_send_button: true,
    show_client_info: false,
    show_desktop_notifications: false,
    play_sounds: false,
    use_system_emojis: true,
    visible_toolbar_buttons: { call: false, emoji: false, spoiler: false, toggle_occupants: true },
    // Nothing is fetched from anywhere but our own origin.
    embed_3rd_party_media_players: false,
    render_media: false,
    fetch_url_headers: false,
    allowed_image_domains: [],
    allowed_audio_domains: [],
    allowed_video_domains: [],
    idchat_component_domain: config.component_domain,
    idchat_lang: config.lang,
    idchat_purposes: config.purposes ?? {},
});
