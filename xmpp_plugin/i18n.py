"""Dutch-first texts: page language, purpose labels and attribute labels (nl, en)."""

from __future__ import annotations

from aiohttp import web

LANGUAGES = ("nl", "en")

PURPOSES: dict[str, dict[str, str]] = {
    "report_move": {"nl": "Verhuizing doorgeven", "en": "Report a move"},
    "request_permit": {"nl": "Vergunning aanvragen", "en": "Request a permit"},
    "request_passport": {"nl": "Paspoort aanvragen", "en": "Request a passport"},
    "notice_of_marriage": {"nl": "Melding voorgenomen huwelijk", "en": "Notice of marriage"},
    "personal_question": {"nl": "Persoonlijke vraag", "en": "Personal question"},
    "test_purpose": {"nl": "Testonderwerp", "en": "Test purpose"},
}

ATTRIBUTES: dict[str, dict[str, str]] = {
    "fullname": {"nl": "Naam", "en": "Name"},
    "email": {"nl": "E-mailadres", "en": "E-mail address"},
    "city": {"nl": "Woonplaats", "en": "City"},
    "bsn": {"nl": "BSN", "en": "Citizen service number (BSN)"},
    "test_attribute": {"nl": "Testattribuut", "en": "Test attribute"},
}


def language(request: web.Request, default: str = "nl") -> str:
    """``?lang=`` wins (the page's switch), then Accept-Language, then the default."""
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return default


def purpose_label(purpose: str, lang: str) -> str:
    return PURPOSES.get(purpose, {}).get(lang, purpose)


def attribute_label(name: str, lang: str) -> str:
    return ATTRIBUTES.get(name, {}).get(lang, name)


TEXT: dict[str, dict[str, str]] = {
    "nl": {
        "skip": "Naar de inhoud",
        "chat_title": "Veilig chatten",
        "topic": "Onderwerp",
        "preparing": "Uw chat wordt voorbereid.",
        "status_pending": "Uw gegevens worden nog opgehaald.",
        "status_verified": "Uw gegevens zijn ontvangen en geverifieerd.",
        "status_not_verified": "U bent niet ingelogd; de medewerker ziet dat uw gegevens niet geverifieerd zijn.",
        "stop": "Chat stoppen en uitloggen",
        "noscript": "Voor deze chat is JavaScript nodig.",
        "language": "Taal",
        "error_title": "Er ging iets mis",
        "error_back": "Ga terug naar de website van de gemeente en start de chat opnieuw.",
        "sim_title": "ID Contact-simulator (alleen demo)",
        "sim_intro": "Deze pagina speelt de rol van ID Contact en een inlogmiddel. Kies een onderwerp en gegevens en start een chat.",
        "sim_purpose": "Onderwerp",
        "sim_attributes": "Gegevens die de burger deelt",
        "sim_failed": "Inloggen mislukt (gegevens niet geverifieerd)",
        "sim_route": "Hoe komen de gegevens binnen?",
        "sim_start": "Start chat",
        "route_auth_result": "Direct bij het starten (auth_result)",
        "route_attr_url": "Via attr_url, voordat de burger de chat opent",
        "route_attr_url_late": "Via attr_url, enkele seconden nadat de burger de chat opent",
        "route_client_url": "Via ?result= in de chatlink",
        "test_keys": "Let op: deze simulator gebruikt de openbare testsleutels van ID Contact. Alleen voor demonstratie.",
    },
    "en": {
        "skip": "Skip to content",
        "chat_title": "Secure chat",
        "topic": "Topic",
        "preparing": "Your chat is being prepared.",
        "status_pending": "Your details are still being retrieved.",
        "status_verified": "Your details have been received and verified.",
        "status_not_verified": "You are not logged in; the agent sees that your details are not verified.",
        "stop": "Stop chat and log out",
        "noscript": "This chat needs JavaScript.",
        "language": "Language",
        "error_title": "Something went wrong",
        "error_back": "Go back to the municipality's website and start the chat again.",
        "sim_title": "ID Contact simulator (demo only)",
        "sim_intro": "This page plays ID Contact and an authentication method. Pick a topic and details and start a chat.",
        "sim_purpose": "Topic",
        "sim_attributes": "Details the citizen shares",
        "sim_failed": "Authentication failed (details not verified)",
        "sim_route": "How do the details arrive?",
        "sim_start": "Start chat",
        "route_auth_result": "At once, with the start (auth_result)",
        "route_attr_url": "Via attr_url, before the citizen opens the chat",
        "route_attr_url_late": "Via attr_url, a few seconds after the citizen opens the chat",
        "route_client_url": "Via ?result= in the chat link",
        "test_keys": "Note: this simulator uses ID Contact's published test keys. For demonstration only.",
    },
}
