/**
 * What the agent reads about handing a chat on (docs/protocol.md §10): Dutch first,
 * English when the console is in English.
 */
const nl = {
    transfer: 'Overdragen',
    transfer_title: 'Chat overdragen',
    transfer_to: 'Overdragen aan',
    to_colleague: 'Een collega',
    to_queue: 'De wachtrij van een onderwerp',
    colleague: 'Collega',
    colleagues_loading: 'Beschikbare collega\'s ophalen…',
    colleagues_none: 'Er is nu geen collega beschikbaar. Kies een wachtrij of probeer het later.',
    colleagues_failed: 'De collega\'s konden niet worden opgehaald. Probeer het opnieuw.',
    colleague_free: (nick, free) => (free > 0 ? `${nick} (${free} ${free === 1 ? 'plek' : 'plekken'} vrij)` : `${nick} (vol)`),
    topic: 'Onderwerp',
    note: 'Notitie voor de collega (optioneel)',
    note_hint: 'Alleen medewerkers zien deze notitie, de inwoner niet. Hoogstens 500 tekens.',
    send: 'Overdragen',
    cancel: 'Annuleren',
    sending: 'Bezig met overdragen…',
    pending: (nick) => `Wacht tot ${nick} de chat aanneemt. Tot dan blijft de chat bij u.`,
    accepted: (purpose, nick) => `Chat "${purpose}" is overgedragen aan ${nick}.`,
    queued: (purpose, topic) => `Chat "${purpose}" staat nu vooraan in de wachtrij "${topic}".`,
    transferred_badge: 'Overgedragen',
    not_taken: (nick, outcome) => `${nick} heeft de chat niet overgenomen (${({ declined: 'geweigerd', timeout: 'niet op tijd gereageerd', unavailable: 'niet meer beschikbaar' })[outcome] ?? outcome}). De chat blijft bij u.`,
    failed: {
        'recipient-unavailable': 'Deze collega is niet beschikbaar of heeft geen plek meer. Kies een ander.',
        conflict: 'Deze chat wordt al overgedragen.',
        'item-not-found': 'De chat of het onderwerp bestaat niet meer.',
        forbidden: 'Deze chat is niet (meer) van u.',
        'bad-request': 'Kies een collega of een onderwerp; de notitie mag hoogstens 500 tekens hebben.',
    },
    failed_other: 'Overdragen is niet gelukt. Probeer het opnieuw.',
    archived: 'Deze chat is overgedragen. U ziet het gesprek tot u het sluit; de gegevens van de inwoner zijn van uw scherm verwijderd.',
    handed_over_by: 'Overgedragen door',
    handover_note: 'Notitie bij overdracht',
    offer_from: (nick) => `Overdracht van ${nick}`,
};

const en = {
    transfer: 'Transfer',
    transfer_title: 'Transfer chat',
    transfer_to: 'Transfer to',
    to_colleague: 'A colleague',
    to_queue: 'The queue of a topic',
    colleague: 'Colleague',
    colleagues_loading: 'Fetching available colleagues…',
    colleagues_none: 'No colleague is available now. Choose a queue or try again later.',
    colleagues_failed: 'The colleagues could not be fetched. Please try again.',
    colleague_free: (nick, free) => (free > 0 ? `${nick} (${free} ${free === 1 ? 'place' : 'places'} free)` : `${nick} (full)`),
    topic: 'Topic',
    note: 'Note for the colleague (optional)',
    note_hint: 'Only agents see this note, never the citizen. At most 500 characters.',
    send: 'Transfer',
    cancel: 'Cancel',
    sending: 'Transferring…',
    pending: (nick) => `Waiting for ${nick} to accept the chat. Until then the chat stays with you.`,
    accepted: (purpose, nick) => `Chat "${purpose}" was transferred to ${nick}.`,
    queued: (purpose, topic) => `Chat "${purpose}" is now at the front of the queue "${topic}".`,
    transferred_badge: 'Transferred',
    not_taken: (nick, outcome) => `${nick} did not take the chat (${({ declined: 'declined', timeout: 'no answer in time', unavailable: 'no longer available' })[outcome] ?? outcome}). The chat stays with you.`,
    failed: {
        'recipient-unavailable': 'This colleague is not available or has no room. Please choose another.',
        conflict: 'This chat is already being transferred.',
        'item-not-found': 'The chat or the topic no longer exists.',
        forbidden: 'This chat is not (or no longer) yours.',
        'bad-request': 'Choose a colleague or a topic; the note may have at most 500 characters.',
    },
    failed_other: 'The transfer failed. Please try again.',
    archived: 'This chat was transferred. You see the conversation until you close it; the citizen\'s details have been removed from your screen.',
    handed_over_by: 'Transferred by',
    handover_note: 'Handover note',
    offer_from: (nick) => `Transfer from ${nick}`,
};

const TEXTS = { nl, en };

export function transferTexts (lang) {
    return TEXTS[lang] ?? nl;
}
