/**
 * Converse settings both clients share: every feature ID Chat does not use is switched
 * off here (not merely hidden), nothing is fetched from outside our origin, and the
 * browser keeps nothing beyond the tab's sessionStorage.
 */

/** Plugins neither client loads. */
export const BLACKLISTED_PLUGINS = [
    'converse-omemo', 'converse-omemo-views', 'converse-push', 'converse-register',
    'converse-bookmarks', 'converse-bookmark-views', 'converse-dragresize', 'converse-minimize',
    'converse-adhoc', 'converse-adhoc-views', 'converse-disco-views', 'converse-mam', 'converse-mam-views',
    'converse-reactions', 'converse-reaction-views', 'converse-headlines', 'converse-headlines-view',
    'converse-rosterview', 'converse-notification', 'converse-blocklist',
];

export const COMMON_SETTINGS = {
    auto_reconnect: true,
    discover_connection_methods: false,
    persistent_store: 'sessionStorage',
    clear_cache_on_logout: true,
    assets_path: '/converse/',
    locales: ['nl', 'en'],
    loglevel: 'warn',
    allow_url_history_change: false,
    // Only the component and the room speak to our users: no 1:1 chats with strangers.
    allow_non_roster_messaging: false,
    allow_contact_requests: false,
    allow_muc_invitations: false,
    allow_adhoc_commands: false,
    allow_bookmarks: false,
    allow_registration: false,
    // What is said stays said: no corrections, retractions, reactions or styling tricks.
    allow_message_corrections: false,
    allow_message_retraction: 'none',
    show_retraction_warning: false,
    muc_disable_slash_commands: true,
    auto_register_muc_nickname: false,
    locked_muc_nickname: true,
    hide_muc_participants: true,
    muc_show_info_messages: [],
    muc_fetch_members: false,
    muc_send_probes: false,
    muc_instant_rooms: false,
    // Ask for the room's history on joining (the server decides how much it keeps in memory):
    // what the citizen typed before the agent came, what was said before a reload.
    muc_history_max_stanzas: 50,
    show_send_button: true,
    show_message_avatar: false, // the name is written above each message
    show_client_info: false,
    show_desktop_notifications: false,
    play_sounds: false,
    use_system_emojis: true,
    emoji_image_path: '',
    visible_toolbar_buttons: {
        call: false, clear: false, emoji: false, location: false, spoiler: false, toggle_occupants: false,
    },
    // Nothing is fetched from anywhere but our own origin.
    embed_3rd_party_media_players: false,
    render_media: false,
    fetch_url_headers: false,
    allowed_image_domains: [],
    allowed_audio_domains: [],
    allowed_video_domains: [],
};

/**
 * Converse counts the emojis a user sends and publishes the counts to their PEP node on
 * the XMPP server (kept on disk there). Nothing is counted or published here: a stand-in
 * takes the counter's place before Converse would create it on connecting.
 */
export function noEmojiStatistics (_converse) {
    const standIn = () => ({
        recordUsage () {}, applyPopularEmojisFromStanza () {}, debouncedPublish: { flush () {} },
    });
    _converse.state.popular_emojis = standIn();
    _converse.api.listen.on('clearSession', () => { _converse.state.popular_emojis = standIn(); });
}
