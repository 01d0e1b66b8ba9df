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
    wait: (seconds) => {
        const minutes = Math.round(seconds / 60);
        if (seconds < 60) return 'Verwachte wachttijd: minder dan een minuut.';
        if (minutes >= 90) return 'Verwachte wachttijd: meer dan een uur.';
        return `Verwachte wachttijd: ongeveer ${minutes} ${minutes === 1 ? 'minuut' : 'minuten'}.`;
    },
    type_ahead: 'U kunt uw vraag alvast typen. De medewerker leest die als de chat begint.',
    offered: 'Een medewerker bekijkt uw vraag.',
    offered_hint: 'Zo meteen begint de chat. U kunt alvast typen.',
    assigned: (agent) => `${agent} helpt u nu.`,
    assigned_anonymous: 'Een medewerker helpt u nu.',
    no_agent: 'Er is op dit moment geen medewerker beschikbaar.',
    no_agent_default: 'U kunt ons ook bellen via het telefoonnummer op de website van de gemeente.',
    no_agent_stay: 'U blijft in de wachtrij. Komt er een medewerker beschikbaar, dan ziet u dat hier.',
    closed: 'De chat over dit onderwerp is nu gesloten.',
    closed_opens: (day, time) => `De chat is ${{ today: 'vandaag', tomorrow: 'morgen' }[day] ?? `op ${day}`} weer open, vanaf ${time} uur.`,
    closed_unknown: 'Het is nog niet bekend wanneer de chat weer open is.',
    closed_next: 'Uw vraag is niet doorgestuurd en u bent uitgelogd. Wilt u dan chatten? Start dan een nieuwe chat via de website van de gemeente.',
    ended: {
        agent: 'De medewerker heeft de chat beëindigd.',
        citizen: 'U heeft de chat beëindigd en bent uitgelogd.',
        timeout: 'De chat is beëindigd omdat er een tijd geen activiteit was.',
        system: 'De chat is beëindigd.',
    },
    home: (municipality) => `Naar de website van ${municipality || 'de gemeente'}`,
    ended_next: 'Uw gegevens zijn uit de chat verwijderd. Heeft u nog een vraag? Start dan een nieuwe chat via de website van de gemeente.',
    ended_transcript: 'Het gesprek staat hieronder zolang deze pagina open is. Wilt u het bewaren? Kies dan "Gesprek opslaan". Het bestand komt alleen op uw eigen computer of telefoon.',
    lost: 'De verbinding is verbroken. We proberen opnieuw te verbinden…',
    back: 'De verbinding is hersteld.',
    offline: 'Er is geen verbinding met de chat. Controleer uw internetverbinding en laad de pagina opnieuw.',
    reload: 'Pagina opnieuw laden',
    elsewhere: 'Deze chat is al geopend in een andere browser. Om veiligheidsredenen kan hij maar in één browser open zijn. Ga verder in de browser waarin u de chat als eerste opende.',
    gone: 'Deze chat bestaat niet meer. Start een nieuwe chat via de website van de gemeente.',
    failed: 'De chat kon niet worden gestart. Probeer het later opnieuw of neem telefonisch contact op met de gemeente.',
    stop: 'Chat stoppen en uitloggen',
    stop_confirm: 'Weet u zeker dat u de chat wilt stoppen? Het gesprek wordt dan afgesloten.',
    stop_yes: 'Ja, stoppen',
    stop_no: 'Nee, doorgaan',
    stopping: 'De chat wordt gestopt…',
    new_message: (who, text) => `Nieuw bericht van ${who}: ${text}`,
    chat_label: 'Chatgesprek',
    details: {
        pending: 'Uw gegevens worden nog opgehaald.',
        verified: 'Uw gegevens zijn ontvangen en geverifieerd.',
        not_verified: 'U bent niet ingelogd; de medewerker ziet dat uw gegevens niet geverifieerd zijn.',
    },
    citizen_nick: 'Inwoner',
    auth_title: 'Inloggen gevraagd',
    auth_asked: (method) => `De medewerker vraagt u in te loggen met ${method}, zodat uw gegevens geverifieerd zijn. Na het inloggen komt u terug in dit gesprek.`,
    auth_login: (method) => `Log in met ${method} om verder te gaan`,
    auth_decline: 'Nee, liever niet',
    auth_outcome: {
        verified: 'U bent ingelogd. De medewerker ziet nu uw geverifieerde gegevens.',
        failed: 'Inloggen is niet gelukt. De medewerker weet dit.',
        declined: 'U heeft niet ingelogd. De medewerker weet dit; u kunt gewoon verder chatten.',
        cancelled: 'De medewerker vraagt u niet meer om in te loggen.',
        expired: 'Het inloggen is niet afgemaakt. De medewerker weet dit; u kunt gewoon verder chatten.',
    },
    messages_label: 'Berichten in dit gesprek',
    message_label: 'Uw bericht',
    message_placeholder: 'Typ hier uw bericht',
    send: 'Verstuur',
    transcript_title: 'Uw gesprek',
    transcript_label: 'Berichten van het gesprek',
    transcript_empty: 'Er zijn in dit gesprek geen berichten verstuurd.',
    transcript_save: 'Gesprek opslaan',
    transcript_saved: 'Het gesprek is opgeslagen in de map met downloads.',
    transcript_heading: (municipality, topic, day) => `Chat met ${municipality}\nOnderwerp: ${topic}\nDatum: ${day}`,
    transcript_file: 'chatgesprek',
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
    wait: (seconds) => {
        const minutes = Math.round(seconds / 60);
        if (seconds < 60) return 'Expected waiting time: less than a minute.';
        if (minutes >= 90) return 'Expected waiting time: more than an hour.';
        return `Expected waiting time: about ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`;
    },
    type_ahead: 'You can already type your question. The agent will read it when the chat starts.',
    offered: 'An agent is looking at your question.',
    offered_hint: 'The chat will start in a moment. You can already type.',
    assigned: (agent) => `${agent} is now helping you.`,
    assigned_anonymous: 'An agent is now helping you.',
    no_agent: 'No agent is available at the moment.',
    no_agent_default: 'You can also call us on the phone number on the municipality\'s website.',
    no_agent_stay: 'You stay in the queue. When an agent becomes available, you will see it here.',
    closed: 'The chat about this topic is closed now.',
    closed_opens: (day, time) => `The chat opens again ${{ today: 'today', tomorrow: 'tomorrow' }[day] ?? `on ${day}`} at ${time}.`,
    closed_unknown: 'It is not known yet when the chat opens again.',
    closed_next: 'Your question was not passed on and you have been logged out. To chat then, start a new chat on the municipality\'s website.',
    ended: {
        agent: 'The agent has ended the chat.',
        citizen: 'You have ended the chat and are logged out.',
        timeout: 'The chat has ended because there was no activity for a while.',
        system: 'The chat has ended.',
    },
    home: (municipality) => `To the website of ${municipality || 'the municipality'}`,
    ended_next: 'Your details have been removed from the chat. Do you have another question? Start a new chat on the municipality\'s website.',
    ended_transcript: 'The conversation is shown below while this page is open. Do you want to keep it? Choose "Save conversation". The file is saved only on your own computer or phone.',
    lost: 'The connection was lost. Trying to reconnect…',
    back: 'The connection has been restored.',
    offline: 'There is no connection with the chat. Check your internet connection and reload the page.',
    reload: 'Reload the page',
    elsewhere: 'This chat is already open in another browser. For your safety it can only be open in one browser. Continue in the browser where you first opened the chat.',
    gone: 'This chat no longer exists. Start a new chat on the municipality\'s website.',
    failed: 'The chat could not be started. Please try again later or call the municipality.',
    stop: 'Stop chat and log out',
    stop_confirm: 'Are you sure you want to stop the chat? The conversation will be closed.',
    stop_yes: 'Yes, stop',
    stop_no: 'No, continue',
    stopping: 'Stopping the chat…',
    new_message: (who, text) => `New message from ${who}: ${text}`,
    chat_label: 'Chat conversation',
    details: {
        pending: 'Your details are still being retrieved.',
        verified: 'Your details have been received and verified.',
        not_verified: 'You are not logged in; the agent sees that your details are not verified.',
    },
    citizen_nick: 'Citizen',
    auth_title: 'Login requested',
    auth_asked: (method) => `The agent asks you to log in with ${method}, so that your details are verified. After logging in you come back to this conversation.`,
    auth_login: (method) => `Log in with ${method} to continue`,
    auth_decline: 'No, I\'d rather not',
    auth_outcome: {
        verified: 'You are logged in. The agent now sees your verified details.',
        failed: 'Logging in did not succeed. The agent knows.',
        declined: 'You did not log in. The agent knows; you can simply go on chatting.',
        cancelled: 'The agent no longer asks you to log in.',
        expired: 'The login was not completed. The agent knows; you can simply go on chatting.',
    },
    messages_label: 'Messages in this conversation',
    message_label: 'Your message',
    message_placeholder: 'Type your message here',
    send: 'Send',
    transcript_title: 'Your conversation',
    transcript_label: 'Messages of the conversation',
    transcript_empty: 'No messages were sent in this conversation.',
    transcript_save: 'Save conversation',
    transcript_saved: 'The conversation has been saved in your downloads folder.',
    transcript_heading: (municipality, topic, day) => `Chat with ${municipality}\nTopic: ${topic}\nDate: ${day}`,
    transcript_file: 'chat-conversation',
};

const TEXTS = { nl, en };

export function texts (lang) {
    return TEXTS[lang] ?? nl;
}
