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
    sources: { auth_result: 'bij het starten van de chat', attr_url: 'via het inlogmiddel (attr_url)', client_url: 'via de chatlink' },
    verified_at: 'Geverifieerd op',
    checked_at: 'Gecontroleerd op',
    no_attributes: 'Geen gegevens gedeeld.',
    attribute_labels: { fullname: 'Naam', email: 'E-mailadres', city: 'Woonplaats', bsn: 'BSN' },
    end: 'Chat beëindigen',
    end_confirm: 'Chat echt beëindigen? De inwoner krijgt daarvan bericht.',
    end_yes: 'Ja, beëindigen',
    end_no: 'Annuleren',
    end_failed: 'Beëindigen is niet gelukt.',
    ended: (purpose, by) => `Chat "${purpose}" is beëindigd ${({ agent: 'door u', citizen: 'door de inwoner', timeout: 'wegens inactiviteit', system: 'door het systeem' })[by] ?? ''}.`.replace(' .', '.'),
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
    sources: { auth_result: 'with the start of the chat', attr_url: 'from the authentication method (attr_url)', client_url: 'via the chat link' },
    verified_at: 'Verified at',
    checked_at: 'Checked at',
    no_attributes: 'No details shared.',
    attribute_labels: { fullname: 'Name', email: 'E-mail address', city: 'City', bsn: 'BSN' },
    end: 'End chat',
    end_confirm: 'Really end the chat? The citizen will be told.',
    end_yes: 'Yes, end it',
    end_no: 'Cancel',
    end_failed: 'Could not end the chat.',
    ended: (purpose, by) => `Chat "${purpose}" was ended ${({ agent: 'by you', citizen: 'by the citizen', timeout: 'for inactivity', system: 'by the system' })[by] ?? ''}.`.replace(' .', '.'),
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
