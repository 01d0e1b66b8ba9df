/**
 * The citizen page's entry module: reads the page's JSON configuration, registers the
 * idchat-citizen plugin and starts Converse as one embedded, anonymous room.
 */
import converse from './converse.js';
import { readConfig } from './shared/config.js';
import './citizen/index.js';

const config = readConfig();

converse.initialize({
    whitelisted_plugins: ['idchat-citizen'],
    blacklisted_plugins: [
        'converse-omemo', 'converse-omemo-views', 'converse-push', 'converse-register',
        'converse-bookmarks', 'converse-bookmark-views', 'converse-roomslist',
        'converse-rosterview', 'converse-dragresize', 'converse-minimize',
        'converse-notification', 'converse-profile', 'converse-adhoc-views', 'converse-disco-views',
        'converse-mam', 'converse-mam-views',
    ],
    view_mode: 'embedded',
    auto_insert: false, // <idchat-citizen> renders the <converse-root>
    singleton: true,
    // Placeholder for converse-singleton's start-up check; idchat-citizen replaces it with
    // the room named in the claim answer.
    auto_join_rooms: [{ jid: `claim-pending@${config.muc_domain}` }],
    authentication: 'anonymous',
    auto_login: true,
    auto_reconnect: true,
    jid: config.guest_domain,
    websocket_url: config.websocket_url,
    discover_connection_methods: false,
    persistent_store: 'sessionStorage',
    clear_cache_on_logout: true,
    assets_path: '/converse/',
    i18n: config.lang,
    loglevel: 'warn',
    allow_url_history_change: false,
    allow_logout: false,
    allow_muc_invitations: false,
    allow_adhoc_commands: false,
    allow_message_retraction: 'own',
    hide_muc_participants: true,
    muc_show_info_messages: [],
    muc_fetch_members: false,
    // Ask for the room's history on joining (the server decides how much it keeps in memory):
    // what the citizen typed before the agent came, what was said before a reload.
    muc_history_max_stanzas: 50,
    muc_send_probes: false,
    muc_instant_rooms: false,
    show_send_button: true,
    show_client_info: false,
    show_desktop_notifications: false,
    play_sounds: false,
    use_system_emojis: true,
    visible_toolbar_buttons: { call: false, emoji: false, spoiler: false, toggle_occupants: false },
    // Nothing is fetched from anywhere but our own origin.
    embed_3rd_party_media_players: false,
    render_media: false,
    fetch_url_headers: false,
    allowed_image_domains: [],
    allowed_audio_domains: [],
    allowed_video_domains: [],
    idchat_component_domain: config.component_domain,
    idchat_ticket: config.ticket,
    idchat_ticket_url: `${location.pathname}/ticket`,
    idchat_lang: config.lang,
});
