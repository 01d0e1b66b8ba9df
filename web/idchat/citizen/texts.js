/**
 * What the citizen reads, in Dutch (default) and English. Functions take plain values
 * and return plain strings: lit escapes them where they are shown.
 */
const nl = {
    connecting: 'Verbinding maken met de chat…',
    claiming: 'Uw chat wordt voorbereid…',
    retrying: 'Dit duurt langer dan normaal: de chat is even niet bereikbaar. We proberen het vanzelf opnieuw, u hoeft niets te doen…',
    queued: (position) => position === 1
        ? 'U bent de volgende in de wachtrij.'
        : `U staat in de wachtrij. Uw plaats: ${position}.`,
    queued_unknown: 'U staat in de wachtrij.',
    interrupted: 'De verbinding met de medewerker is verbroken. U staat weer vooraan in de wachtrij.',
    wait: (seconds) => seconds < 60
        ? 'Verwachte wachttijd: minder dan een minuut.'
        : `Verwachte wachttijd: ongeveer ${Math.round(seconds / 60)} ${Math.round(seconds / 60) === 1 ? 'minuut' : 'minuten'}.`,
    type_ahead: 'U kunt uw vraag alvast typen. De medewerker leest die als de chat begint.',
    assigned: (agent) => `${agent} helpt u nu.`,
    assigned_anonymous: 'Een medewerker helpt u nu.',
    no_agent: 'Er is op dit moment geen medewerker beschikbaar.',
    no_agent_default: 'U kunt ons ook bellen via het telefoonnummer op de website van de gemeente.',
    no_agent_stay: 'U blijft in de wachtrij; zodra er een medewerker vrij is, helpt die u.',
    ended: {
        agent: 'De medewerker heeft de chat beëindigd.',
        citizen: 'U heeft de chat beëindigd en bent uitgelogd.',
        timeout: 'De chat is beëindigd omdat er een tijd geen activiteit was.',
        system: 'De chat is beëindigd.',
    },
    ended_next: 'Uw gegevens zijn uit de chat verwijderd. U kunt dit venster sluiten. Heeft u nog een vraag? Start dan een nieuwe chat via de website van de gemeente.',
    lost: 'De verbinding is verbroken. We proberen opnieuw te verbinden…',
    back: 'De verbinding is hersteld.',
    offline: 'Er is geen verbinding met de chat. Controleer uw internetverbinding en laad de pagina opnieuw.',
    reload: 'Pagina opnieuw laden',
    elsewhere: 'Deze chat is al geopend in een andere browser. Om veiligheidsredenen kan hij maar in één browser open zijn.',
    gone: 'Deze chat bestaat niet meer. Start een nieuwe chat via de website van de gemeente.',
    failed: 'De chat kon niet worden gestart. Probeer het later opnieuw of neem telefonisch contact op met de gemeente.',
    stop: 'Chat stoppen en uitloggen',
    stop_confirm: 'Weet u zeker dat u de chat wilt stoppen? Het gesprek wordt dan afgesloten.',
    stop_yes: 'Ja, stoppen',
    stop_no: 'Nee, doorgaan',
    stopping: 'De chat wordt gestopt…',
    new_message: (who, text) => `Nieuw bericht van ${who}: ${text}`,
    chat_label: 'Chatgesprek',
};

const en = {
    connecting: 'Connecting to the chat…',
    claiming: 'Your chat is being prepared…',
    retrying: 'This takes longer than usual: the chat cannot be reached just now. We keep trying by ourselves, you need not do anything…',
    queued: (position) => position === 1
        ? 'You are next in the queue.'
        : `You are in the queue. Your position: ${position}.`,
    queued_unknown: 'You are in the queue.',
    interrupted: 'The connection with the agent was lost. You are back at the front of the queue.',
    wait: (seconds) => seconds < 60
        ? 'Expected waiting time: less than a minute.'
        : `Expected waiting time: about ${Math.round(seconds / 60)} ${Math.round(seconds / 60) === 1 ? 'minute' : 'minutes'}.`,
    type_ahead: 'You can already type your question. The agent will read it when the chat starts.',
    assigned: (agent) => `${agent} is now helping you.`,
    assigned_anonymous: 'An agent is now helping you.',
    no_agent: 'No agent is available at the moment.',
    no_agent_default: 'You can also call us on the phone number on the municipality\'s website.',
    no_agent_stay: 'You stay in the queue; as soon as an agent is free, they will help you.',
    ended: {
        agent: 'The agent has ended the chat.',
        citizen: 'You have ended the chat and are logged out.',
        timeout: 'The chat has ended because there was no activity for a while.',
        system: 'The chat has ended.',
    },
    ended_next: 'Your details have been removed from the chat. You can close this window. Do you have another question? Start a new chat on the municipality\'s website.',
    lost: 'The connection was lost. Trying to reconnect…',
    back: 'The connection has been restored.',
    offline: 'There is no connection with the chat. Check your internet connection and reload the page.',
    reload: 'Reload the page',
    elsewhere: 'This chat is already open in another browser. For your safety it can only be open in one browser.',
    gone: 'This chat no longer exists. Start a new chat on the municipality\'s website.',
    failed: 'The chat could not be started. Please try again later or call the municipality.',
    stop: 'Stop chat and log out',
    stop_confirm: 'Are you sure you want to stop the chat? The conversation will be closed.',
    stop_yes: 'Yes, stop',
    stop_no: 'No, continue',
    stopping: 'Stopping the chat…',
    new_message: (who, text) => `New message from ${who}: ${text}`,
    chat_label: 'Chat conversation',
};

const TEXTS = { nl, en };

export function texts (lang) {
    return TEXTS[lang] ?? nl;
}
