/**
 * What the agent reads: Dutch first, English when the console is in English. Purpose
 * labels come from the page's configuration (the service's one list of purposes).
 */
const nl = {
    login_title: 'Inloggen voor medewerkers',
    desk_label: 'Beschikbaarheid',
    not_connected: 'Log in om chats te ontvangen.',
    available: 'Beschikbaar voor chats',
    available_on: 'U bent beschikbaar en ontvangt nieuwe chats.',
    available_off: 'U bent niet beschikbaar: u ontvangt geen nieuwe chats.',
    max_chats: 'Maximaal aantal chats tegelijk',
    load: (active, max) => `${active} van ${max} chats open`,
    forbidden: 'Dit account mag geen chats aannemen. Neem contact op met de beheerder.',
    offers_label: 'Nieuwe chats',
    no_offers: 'Geen chats die op u wachten.',
    offer_title: (purpose) => `Nieuwe chat: ${purpose}`,
    waiting: (seconds) => `Wacht al ${duration(seconds)}`,
    countdown: (seconds) => `Nog ${seconds} s om te reageren`,
    accept: 'Aannemen',
    decline: 'Weigeren',
    offer_gone: 'Deze chat is niet meer beschikbaar.',
    offer_revoked: (purpose) => `Chat "${purpose}" is niet meer beschikbaar.`,
    accept_failed: 'Aannemen is niet gelukt: de chat is niet meer beschikbaar.',
    card_label: 'Gegevens van de inwoner',
    purpose: 'Onderwerp',
    status: {
        verified: 'Geverifieerd',
        not_verified: 'Niet geverifieerd',
        pending: 'Wachten op gegevens',
        waiting: 'Wachten op gegevens',
    },
    status_explain: {
        verified: 'Deze gegevens zijn geverifieerd door het inlogmiddel.',
        not_verified: 'Let op: het inloggen is mislukt. Deze persoon is NIET geverifieerd.',
        pending: 'De gegevens zijn nog niet binnen. Ze verschijnen hier zodra ze aankomen.',
        waiting: 'De gegevens zijn nog niet binnen. Ze verschijnen hier zodra ze aankomen.',
    },
    source: 'Bron',
    sources: { auth_result: 'bij het starten van de chat', attr_url: 'door het inlogmiddel, na het starten van de chat', client_url: 'via de chatlink' },
    verified_at: 'Geverifieerd op',
    checked_at: 'Gecontroleerd op',
    no_attributes: 'Geen gegevens gedeeld.',
    attribute_labels: { fullname: 'Naam', email: 'E-mailadres', city: 'Woonplaats', bsn: 'BSN' },
    end: 'Chat beëindigen',
    end_confirm: 'Chat echt beëindigen? De inwoner krijgt daarvan bericht.',
    end_yes: 'Ja, beëindigen',
    end_no: 'Annuleren',
    end_failed: 'Beëindigen is niet gelukt. Probeer het nog eens; lukt het dan niet, laad de pagina opnieuw.',
    ended: (purpose, by) => `Chat "${purpose}" is beëindigd ${({ agent: 'door u', citizen: 'door de inwoner', timeout: 'wegens inactiviteit', system: 'door het systeem' })[by] ?? ''}.`.replace(' .', '.'),
    moved: (purpose) => `Chat "${purpose}" is overgedragen aan een andere medewerker, omdat u een tijd niet verbonden was.`,
    username: 'Gebruikersnaam',
    password: 'Wachtwoord',
    login: 'Inloggen',
    logging_in: 'Bezig met inloggen…',
    resuming: 'U wordt weer ingelogd…',
    login_failed: {
        credentials: 'Inloggen is niet gelukt: de gebruikersnaam of het wachtwoord klopt niet. Probeer het opnieuw.',
        connection: 'Inloggen is niet gelukt: er is geen verbinding met de chatdienst. Probeer het over een paar minuten opnieuw of neem contact op met de beheerder.',
        timeout: 'Inloggen duurt te lang: de chatdienst antwoordt niet. Probeer het opnieuw of neem contact op met de beheerder.',
        expired: 'U bent uitgelogd. Log opnieuw in.',
    },
    signed_in_as: (name) => `Ingelogd als ${name}`,
    logout: 'Uitloggen',
    reconnecting: 'De verbinding is verbroken. We proberen opnieuw te verbinden…',
    chats_label: 'Uw chats',
    no_chats: 'U heeft geen open chats.',
    chat_ref: (ref) => `Chat ${ref}`,
    unread: (n) => (n === 1 ? '1 nieuw bericht' : `${n} nieuwe berichten`),
    chat_ended_badge: 'Beëindigd',
    current: 'nu open',
    ended_title: (label) => `${label} (beëindigd)`,
    ended_notice: 'Deze chat is beëindigd. U ziet het gesprek tot u het sluit; de gegevens van de inwoner zijn van uw scherm verwijderd.',
    close_chat: 'Gesprek sluiten',
    transcript_label: 'Berichten van het gesprek',
    transcript_empty: 'Er zijn in dit gesprek geen berichten verstuurd.',
    empty_main: 'Er is geen chat open. Nieuwe chats verschijnen links onder "Nieuwe chats".',
    citizen_nick: 'Inwoner',
    citizen_reloaded: 'De inwoner heeft de pagina opnieuw geladen (bijvoorbeeld om de taal te wisselen). Het gesprek gaat gewoon door.',
    messages_label: 'Berichten in dit gesprek',
    message_label: 'Uw bericht aan de inwoner',
    message_placeholder: 'Typ hier uw bericht',
    send: 'Verstuur',
    view_label: 'Weergave',
    view_chats: 'Mijn chats',
    view_overview: 'Teamoverzicht',
    supervisor_only: 'Dit account neemt geen chats aan. U ziet het teamoverzicht.',
    ov_title: 'Teamoverzicht',
    ov_privacy: 'Alleen aantallen en tijden: geen gegevens van inwoners.',
    ov_loading: 'Het overzicht wordt geladen…',
    ov_failed: 'Het overzicht kon niet worden geladen. Probeer het over een minuut opnieuw.',
    ov_updated: (clock) => `Bijgewerkt om ${clock}`,
    ov_stale: (clock) => `Let op: het overzicht is sinds ${clock} niet bijgewerkt. De verbinding wordt hersteld.`,
    ov_summary: (waiting, available) => `Wachtend: ${waiting}. Medewerkers beschikbaar: ${available}.`,
    ov_nobody: 'Er wachten inwoners, maar er is geen medewerker beschikbaar.',
    ov_queues: 'Wachtende inwoners per onderwerp',
    ov_no_queues: 'Er heeft nog niemand een chat gestart.',
    col_purpose: 'Onderwerp',
    col_waiting: 'Wachtend',
    col_longest: 'Langste wachttijd',
    col_expected: 'Verwachte wachttijd voor een nieuwe inwoner',
    ov_agents: 'Medewerkers',
    ov_no_agents: 'Er heeft zich nog geen medewerker gemeld.',
    col_agent: 'Medewerker',
    col_availability: 'Beschikbaarheid',
    col_chats: 'Chats open / maximaal',
    col_idle: 'Laatste chat aangenomen',
    is_available: 'Beschikbaar',
    not_available: 'Niet beschikbaar',
    chats_of: (open, most) => `${open} van ${most}`,
    offers_out: (n) => `(${n} aangeboden)`,
    ago: (span) => `${span} geleden`,
    ov_today: 'Vandaag',
    today_answered: 'Beantwoord',
    today_abandoned: 'Afgebroken tijdens het wachten',
    today_median: 'Mediane wachttijd',
    today_level: (seconds) => `Servicegraad: aangenomen binnen ${seconds} s`,
    not_known: 'nog onbekend',
    none_yet: 'nog geen',
};

const en = {
    login_title: 'Log in for agents',
    desk_label: 'Availability',
    not_connected: 'Log in to receive chats.',
    available: 'Available for chats',
    available_on: 'You are available and receive new chats.',
    available_off: 'You are not available: you receive no new chats.',
    max_chats: 'Maximum number of chats at once',
    load: (active, max) => `${active} of ${max} chats open`,
    forbidden: 'This account may not take chats. Please contact the administrator.',
    offers_label: 'New chats',
    no_offers: 'No chats waiting for you.',
    offer_title: (purpose) => `New chat: ${purpose}`,
    waiting: (seconds) => `Waiting for ${duration(seconds, 'en')}`,
    countdown: (seconds) => `${seconds} s left to respond`,
    accept: 'Accept',
    decline: 'Decline',
    offer_gone: 'This chat is no longer available.',
    offer_revoked: (purpose) => `Chat "${purpose}" is no longer available.`,
    accept_failed: 'Could not accept: the chat is no longer available.',
    card_label: 'Citizen details',
    purpose: 'Topic',
    status: { verified: 'Verified', not_verified: 'Not verified', pending: 'Waiting for details', waiting: 'Waiting for details' },
    status_explain: {
        verified: 'These details were verified by the authentication method.',
        not_verified: 'Note: authentication failed. This person is NOT verified.',
        pending: 'The details have not arrived yet. They appear here as soon as they do.',
        waiting: 'The details have not arrived yet. They appear here as soon as they do.',
    },
    source: 'Source',
    sources: { auth_result: 'with the start of the chat', attr_url: 'from the authentication method, after the chat started', client_url: 'via the chat link' },
    verified_at: 'Verified at',
    checked_at: 'Checked at',
    no_attributes: 'No details shared.',
    attribute_labels: { fullname: 'Name', email: 'E-mail address', city: 'City', bsn: 'BSN' },
    end: 'End chat',
    end_confirm: 'Really end the chat? The citizen will be told.',
    end_yes: 'Yes, end it',
    end_no: 'Cancel',
    end_failed: 'Could not end the chat. Please try again; if that fails, reload the page.',
    ended: (purpose, by) => `Chat "${purpose}" was ended ${({ agent: 'by you', citizen: 'by the citizen', timeout: 'for inactivity', system: 'by the system' })[by] ?? ''}.`.replace(' .', '.'),
    moved: (purpose) => `Chat "${purpose}" went to another agent, because you were not connected for a while.`,
    username: 'User name',
    password: 'Password',
    login: 'Log in',
    logging_in: 'Logging in…',
    resuming: 'Logging you in again…',
    login_failed: {
        credentials: 'Logging in failed: the user name or password is not correct. Please try again.',
        connection: 'Logging in failed: there is no connection with the chat service. Try again in a few minutes or contact the administrator.',
        timeout: 'Logging in takes too long: the chat service does not answer. Try again or contact the administrator.',
        expired: 'You have been logged out. Please log in again.',
    },
    signed_in_as: (name) => `Logged in as ${name}`,
    logout: 'Log out',
    reconnecting: 'The connection was lost. Trying to reconnect…',
    chats_label: 'Your chats',
    no_chats: 'You have no open chats.',
    chat_ref: (ref) => `Chat ${ref}`,
    unread: (n) => (n === 1 ? '1 new message' : `${n} new messages`),
    chat_ended_badge: 'Ended',
    current: 'open now',
    ended_title: (label) => `${label} (ended)`,
    ended_notice: 'This chat has ended. You see the conversation until you close it; the citizen\'s details have been removed from your screen.',
    close_chat: 'Close conversation',
    transcript_label: 'Messages of the conversation',
    transcript_empty: 'No messages were sent in this conversation.',
    empty_main: 'No chat is open. New chats appear on the left under "New chats".',
    citizen_nick: 'Citizen',
    citizen_reloaded: 'The citizen reloaded the page (for example to change the language). The conversation goes on.',
    messages_label: 'Messages in this conversation',
    message_label: 'Your message to the citizen',
    message_placeholder: 'Type your message here',
    send: 'Send',
    view_label: 'View',
    view_chats: 'My chats',
    view_overview: 'Team overview',
    supervisor_only: 'This account does not take chats. You see the team overview.',
    ov_title: 'Team overview',
    ov_privacy: 'Counts and times only: no details of citizens.',
    ov_loading: 'Loading the overview…',
    ov_failed: 'The overview could not be loaded. Please try again in a minute.',
    ov_updated: (clock) => `Updated at ${clock}`,
    ov_stale: (clock) => `Note: the overview has not been updated since ${clock}. Reconnecting.`,
    ov_summary: (waiting, available) => `Waiting: ${waiting}. Agents available: ${available}.`,
    ov_nobody: 'Citizens are waiting, but no agent is available.',
    ov_queues: 'Citizens waiting per topic',
    ov_no_queues: 'Nobody has started a chat yet.',
    col_purpose: 'Topic',
    col_waiting: 'Waiting',
    col_longest: 'Longest wait',
    col_expected: 'Expected wait for a new citizen',
    ov_agents: 'Agents',
    ov_no_agents: 'No agent has signed in yet.',
    col_agent: 'Agent',
    col_availability: 'Availability',
    col_chats: 'Open chats / maximum',
    col_idle: 'Last chat accepted',
    is_available: 'Available',
    not_available: 'Not available',
    chats_of: (open, most) => `${open} of ${most}`,
    offers_out: (n) => `(${n} offered)`,
    ago: (span) => `${span} ago`,
    ov_today: 'Today',
    today_answered: 'Answered',
    today_abandoned: 'Abandoned while waiting',
    today_median: 'Median wait',
    today_level: (seconds) => `Service level: accepted within ${seconds} s`,
    not_known: 'not known yet',
    none_yet: 'none yet',
};

function duration (seconds, lang = 'nl') {
    if (seconds < 60) return `${seconds} s`;
    const minutes = Math.floor(seconds / 60);
    return lang === 'nl' ? `${minutes} min` : `${minutes} min`;
}

const TEXTS = { nl, en };

export function texts (lang) {
    return TEXTS[lang] ?? nl;
}

/** A purpose tag's label from the page configuration, else the tag itself. */
export function purposeLabel (purposes, tag) {
    return purposes?.[tag] || tag;
}

/**
 * A span of seconds as a team lead reads it: "45 s", "2 min 5 s", "1 u 10 min" ("1 h 10
 * min" in English); whole seconds, never negative.
 */
export function span (seconds, lang = 'nl') {
    const s = Math.max(0, Math.round(Number(seconds) || 0));
    if (s < 60) return `${s} s`;
    const minutes = Math.floor(s / 60);
    if (minutes < 60) return s % 60 ? `${minutes} min ${s % 60} s` : `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    return `${hours} ${lang === 'en' ? 'h' : 'u'}${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

/** A share (0–1) as a whole percentage in the language's own way ("78%"). */
export function percent (share, lang = 'nl') {
    return new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'nl-NL', { style: 'percent', maximumFractionDigits: 0 })
        .format(share);
}

/** The time of day of an ISO timestamp, in the browser's zone ("09:41:07"); '' if unreadable. */
export function clock (iso, lang = 'nl') {
    const when = new Date(iso);
    if (!iso || Number.isNaN(when.getTime())) return '';
    return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'nl-NL',
                                   { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(when);
}
