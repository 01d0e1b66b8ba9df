"""Dutch-first texts of the pages and the page language (nl, en). Topic and attribute labels
are the municipality's: xmpp_plugin/topics.py."""

from __future__ import annotations

from aiohttp import web

LANGUAGES = ("nl", "en")


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
        "error_code": "Foutcode",
        "reload": "Pagina opnieuw laden",
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
        "simauth_title": "Inloggen met {method} (gesimuleerd)",
        "simauth_intro": "De medewerker vraagt u in te loggen. Dit is een demo: kies als wie u inlogt, of laat het inloggen mislukken.",
        "simauth_person": "Inloggen als",
        "simauth_choose": "Kies een persoon",
        "simauth_login": "Inloggen",
        "simauth_fail": "Inloggen laten mislukken",
        "simauth_cancel": "Annuleren en terug naar de chat",
        "simauth_gone": "Dit inlogverzoek bestaat niet (meer). Ga terug naar de chat.",
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
        "error_code": "Error code",
        "reload": "Reload the page",
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
        "simauth_title": "Log in with {method} (simulated)",
        "simauth_intro": "The agent asks you to log in. This is a demo: choose who you log in as, or make the login fail.",
        "simauth_person": "Log in as",
        "simauth_choose": "Choose a person",
        "simauth_login": "Log in",
        "simauth_fail": "Make the login fail",
        "simauth_cancel": "Cancel and go back to the chat",
        "simauth_gone": "This login request does not exist (any more). Go back to the chat.",
    },
}


# What an error page says, per problem type: (heading, what happened, what to do now). Only
# words a person understands: the problem type itself stays in the JSON for API clients.
_ERRORS: dict[str, dict[str, tuple[str, str, str]]] = {
    "nl": {
        "unknown-session": (
            "Deze chat bestaat niet meer",
            "De chat is beëindigd of verlopen, of de link is niet volledig.",
            "Heeft u een vraag? Start dan een nieuwe chat via de website van de gemeente."),
        "chat-open-elsewhere": (
            "Deze chat is al geopend in een andere browser",
            "Om veiligheidsredenen kan een chat maar in één browser tegelijk open zijn. Deze chat "
            "is eerder geopend in een andere browser of op een ander apparaat.",
            "Ga verder in de browser waarin u de chat als eerste opende. Heeft u die niet meer bij "
            "de hand? Start dan een nieuwe chat via de website van de gemeente."),
        "token": (
            "Uw inloggegevens konden niet worden gecontroleerd",
            "Daardoor kan de chat met deze link niet worden geopend.",
            "Ga terug naar de website van de gemeente, log opnieuw in en start de chat opnieuw."),
        "attributes-present": (
            "Uw gegevens waren al ontvangen",
            "Voor deze chat zijn uw gegevens al eerder doorgegeven.",
            "Ga verder in het chatvenster dat u al open had. Is dat gesloten? Start dan een "
            "nieuwe chat via de website van de gemeente."),
        "unavailable": (
            "De chat is tijdelijk niet beschikbaar",
            "Er is een storing bij de chatdienst. Er is niets veranderd.",
            "Probeer het over een paar minuten opnieuw door deze pagina opnieuw te laden."),
        "not-found": (
            "Deze pagina bestaat niet",
            "Het adres klopt niet of de pagina bestaat niet meer.",
            "Controleer het adres, of ga naar de website van de gemeente."),
        "default": (
            "Er ging iets mis",
            "Er is niets veranderd.",
            "Probeer het later opnieuw. Lukt het dan nog niet? Neem telefonisch contact op met "
            "de gemeente."),
    },
    "en": {
        "unknown-session": (
            "This chat no longer exists",
            "The chat has ended or expired, or the link is incomplete.",
            "Do you have a question? Start a new chat on the municipality's website."),
        "chat-open-elsewhere": (
            "This chat is already open in another browser",
            "For your safety a chat can only be open in one browser at a time. This chat was "
            "opened before in another browser or on another device.",
            "Continue in the browser where you first opened the chat. Don't have it at hand? "
            "Start a new chat on the municipality's website."),
        "token": (
            "Your login could not be checked",
            "Because of this the chat cannot be opened with this link.",
            "Go back to the municipality's website, log in again and start the chat again."),
        "attributes-present": (
            "Your details had already been received",
            "Your details were already passed on for this chat.",
            "Continue in the chat window you already had open. Closed it? Start a new chat on "
            "the municipality's website."),
        "unavailable": (
            "The chat is temporarily unavailable",
            "The chat service has a problem. Nothing was changed.",
            "Please try again in a few minutes by reloading this page."),
        "not-found": (
            "This page does not exist",
            "The address is wrong or the page no longer exists.",
            "Check the address, or go to the municipality's website."),
        "default": (
            "Something went wrong",
            "Nothing was changed.",
            "Please try again later. Still not working? Call the municipality."),
    },
}


# An agent's refused sign-in (xmpp_plugin/oidc.py): one heading and advice, and per check
# what happened, in words an agent (and the service desk they call) understands.
_SIGNIN: dict[str, dict[str, str]] = {
    "nl": {
        "heading": "Inloggen is niet gelukt",
        "advice": "Log opnieuw in via de knop op de KCC-pagina. Lukt het dan nog niet? Neem "
                  "contact op met de servicedesk en noem de foutcode hieronder.",
        "oidc-state": "Deze inlogpoging is onbekend of verlopen, of in een andere browser begonnen.",
        "oidc-provider": "De identiteitsprovider heeft de inlog geweigerd of afgebroken.",
        "oidc-algorithm": "Het ID-token is ondertekend met een methode die niet is toegestaan.",
        "oidc-signature": "De handtekening van het ID-token klopt niet met de sleutels van de identiteitsprovider.",
        "oidc-issuer": "Het ID-token komt van een andere identiteitsprovider dan ingesteld.",
        "oidc-audience": "Het ID-token is bedoeld voor een andere toepassing.",
        "oidc-nonce": "Het ID-token hoort niet bij deze inlogpoging.",
        "oidc-expired": "Het ID-token is verlopen of nog niet geldig (klopt de klok?).",
        "oidc-claims": "Het ID-token mist gegevens die nodig zijn.",
        "oidc-acr": "U bent niet sterk genoeg ingelogd: deze toepassing vraagt om inloggen met "
                    "een tweede factor (MFA).",
        "oidc-role": "Uw account heeft geen rol als medewerker of supervisor van het KCC-chatkanaal.",
        "agent-signed-out": "U bent niet (meer) ingelogd.",
        "oidc-sign-in": "De inlog kon niet worden gecontroleerd.",
    },
    "en": {
        "heading": "Signing in did not work",
        "advice": "Sign in again with the button on the KCC page. Still not working? Contact the "
                  "service desk and mention the error code below.",
        "oidc-state": "This sign-in is unknown or has expired, or began in another browser.",
        "oidc-provider": "The identity provider refused or cancelled the sign-in.",
        "oidc-algorithm": "The ID token is signed with a method that is not allowed.",
        "oidc-signature": "The ID token's signature does not match the identity provider's keys.",
        "oidc-issuer": "The ID token comes from another identity provider than the one configured.",
        "oidc-audience": "The ID token is meant for another application.",
        "oidc-nonce": "The ID token does not belong to this sign-in.",
        "oidc-expired": "The ID token has expired or is not valid yet (is the clock right?).",
        "oidc-claims": "The ID token lacks details that are needed.",
        "oidc-acr": "Your sign-in is not strong enough: this application asks for a second "
                    "factor (MFA).",
        "oidc-role": "Your account has no role as an agent or supervisor of the KCC chat.",
        "agent-signed-out": "You are not signed in (any more).",
        "oidc-sign-in": "The sign-in could not be checked.",
    },
}


def error_text(slug: str, lang: str) -> tuple[str, str, str]:
    """(heading, what happened, what to do) for a problem type, in ``lang``."""
    if slug.startswith("oidc-") or slug == "agent-signed-out":
        words = _SIGNIN.get(lang, _SIGNIN["nl"])
        return words["heading"], words.get(slug, words["oidc-sign-in"]), words["advice"]
    table = _ERRORS.get(lang, _ERRORS["nl"])
    if slug.startswith("token-") or slug == "invalid-token":
        slug = "token"
    elif slug == "result-other-browser":  # the login result came to a browser the chat is not in
        slug = "chat-open-elsewhere"
    return table.get(slug, table["default"])
