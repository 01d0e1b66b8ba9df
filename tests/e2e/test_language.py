"""One language at a time: every string a citizen or an agent can see or hear (text,
titles, labels, placeholders) comes from our Dutch or English texts or from Converse's own
translation, in the page's language — walked through every state of a chat, in Dutch and
in English, against a list of English, Dutch and library leftovers."""

from __future__ import annotations

import datetime

import pytest
from playwright.async_api import Page, expect

from pagecheck import leftovers, shown_strings
from webstack import ATTRS, agent_credentials, new_page, say, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.server("prosody")]  # words: the same on both servers

JARGON = [r"\bXMPP\b", r"\bJabber\b", r"[Gg]roupchat", r"Query server", r"Set status", r"Reset Password",
          r"Add Reaction", r"\bRetract", r"\bQuote\b", r"\bCopy\b", r"\bEdit\b", r"/problems/", r"@rooms\.",
          r"@guest\.", r"@agents\.", r"\bcomponent\.", r"attr_url", r"auth_result", r"client_url", r"^Menu$",
          r"\bMUC\b", r"\bJID\b", r"[Oo]ccupant", r"is verwijderd wegens", r"[Aa]ffiliation", r"lidmaatschap",
          r"[Gg]roep(s)?gesprek", r"[Bb]ijnaam", r"[Nn]ickname", r"\bBookmark", r"[Bb]ladwijzer", r"\bOMEMO\b",
          r"[Bb]ookmark"]
DAYS_NL = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
MONTHS_NL = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
             "oktober", "november", "december"]
DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]
LEFTOVERS = {
    "nl": JARGON + [r"Report a move", r"\bTopic\b", r"^Name$", r"^City$", r"\bPassword\b", r"\d+ste\b", r"\b(" + "|".join(DAYS_EN + MONTHS_EN) + r")\b", r"\bMessage\b",
                    r"\bSend\b", r"\b[Tt]he\b", r"\bYou\b", r"\band\b", r"\bKlik\b", r"\bCitizen\b", r"\bLog in\b"],
    "en": JARGON + [r"\bInwoner\b", r"\bBericht\b", r"\bVerstuur\b", r"\b(" + "|".join(DAYS_NL + MONTHS_NL) + r")\b",
                    r"\b[Dd]e\b", r"\b[Hh]et\b", r"\b[Ee]en\b", r"\bwachtrij\b", r"\bmedewerker\b",
                    r"\b\d+(st|nd|rd|th)\b", r"\bInloggen\b", r"\bgegevens\b", r"Verhuizing doorgeven",
                    r"\bOnderwerp\b", r"^Naam$", r"^Woonplaats$", r"^E-mailadres$"],
}
TEXTS = {
    "nl": {"accept": "nl-NL", "agent": "Romeo helpt u nu.", "citizen": "Inwoner", "ended": "De medewerker heeft de chat beëindigd.",
           "reloaded": "De inwoner heeft de pagina opnieuw geladen", "no_agent": "Er is op dit moment geen medewerker",
           "wrong": "de gebruikersnaam of het wachtwoord klopt niet", "gone": "Deze chat bestaat niet meer",
           "elsewhere": "Deze chat is al geopend in een andere browser", "days": DAYS_NL, "months": MONTHS_NL},
    "en": {"accept": "en-GB", "agent": "Romeo is now helping you.", "citizen": "Citizen", "ended": "The agent has ended the chat.",
           "reloaded": "The citizen reloaded the page", "no_agent": "No agent is available at the moment",
           "wrong": "the user name or password is not correct", "gone": "This chat no longer exists",
           "elsewhere": "This chat is already open in another browser", "days": DAYS_EN, "months": MONTHS_EN},
}


class Scan:
    """Collects, per page and state, the leftovers found in what the page shows."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.found: list[str] = []
        self.states = 0

    async def __call__(self, page: Page, state: str) -> None:
        strings = await shown_strings(page, everything=True)
        assert strings, f"nothing shown in {state}?"
        self.states += 1
        self.found += [f"{state}: {hit}" for hit in leftovers(strings, LEFTOVERS[self.lang])]


def today(lang: str) -> str:
    """The day separator's words for today (the browser runs in the machine's time zone)."""
    now = datetime.datetime.now()
    t = TEXTS[lang]
    return f"{t['days'][now.weekday()]} {now.day} {t['months'][now.month - 1]} {now.year}"


def test_the_leftover_lists_catch_what_the_tried_version_showed() -> None:
    """Positive control for the lists: the strings seen when the clients were tried."""
    seen_nl = ["Add Reaction", "Edit", "Retract", "Copy", "Quote", "maandag nov 30ste 2026", "XMPP-adres", "Password",
               "Add groupchat", "Query server", "Set status", "Reset Password", "Inwoner is verwijderd wegens een "
               "wijziging in lidmaatschap", "404 · /problems/unknown-session", "Groepgesprekken", "Menu"]
    assert len(leftovers(seen_nl, LEFTOVERS["nl"])) >= len(seen_nl)
    seen_en = ["Inwoner", "Bericht", "maandag 30 november 2026", "U staat in de wachtrij", "Nov 30th"]
    assert len(leftovers(seen_en, LEFTOVERS["en"])) >= len(seen_en)
    assert leftovers(["Romeo is now helping you.", "Monday 30 November 2026", "Citizen"], LEFTOVERS["en"]) == []
    assert leftovers(["Romeo helpt u nu.", "maandag 30 november 2026", "Inwoner", "Verstuur"], LEFTOVERS["nl"]) == []


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.timeout(180)
async def test_every_state_in_one_language(stack, browser, request, lang: str) -> None:
    t = TEXTS[lang]
    scan = Scan(lang)
    query = f"?lang={lang}"

    # The agent's sign-in, and a wrong password.
    actx, agent, agent_watch = await new_page(browser, stack, lang=t["accept"])
    await agent.goto(stack.base_url + "/agent" + query)
    await agent.locator("#idchat-username").wait_for()
    # Positive control for the scan: a title attribute it must see.
    await agent.evaluate("document.body.insertAdjacentHTML('beforeend', '<span id=ctl title=\"Query server\">x</span>')")
    control = leftovers(await shown_strings(agent), LEFTOVERS[lang])
    assert [hit for hit in control if "Query server" in hit], control
    await agent.evaluate("document.getElementById('ctl').remove()")
    await scan(agent, "agent sign-in")
    await agent_credentials(agent, "romeo", "not-the-password")
    await expect(agent.locator(".idchat-signin__error")).to_contain_text(t["wrong"])
    await scan(agent, "agent wrong password")
    await agent_credentials(agent, "romeo")
    await agent.locator("[data-action=availability]").wait_for()
    await scan(agent, "agent signed in, not available")

    # The citizen waits while nobody is on duty.
    cctx, citizen, citizen_watch = await new_page(browser, stack, width=360, height=740, lang=t["accept"])
    client_url = stack.start_session(ATTRS)
    await citizen.goto(client_url + query)
    await expect(citizen.locator(".idchat-status--no-agent")).to_contain_text(t["no_agent"], timeout=10000)
    await say(citizen, "Goedemiddag, ik heb een vraag.")
    await scan(citizen, "citizen, no agent")

    # On duty: the offer, then the chat.
    await agent.locator(".idchat-switch").click()
    await agent.locator("idchat-offer").wait_for()
    await scan(agent, "agent with an offer")
    await expect(citizen.locator(".idchat-status--offered")).to_be_visible()
    await scan(citizen, "citizen, offered")
    await agent.locator("idchat-offer [data-action=accept]").click()
    await expect(citizen.locator(".idchat-status--assigned")).to_contain_text(t["agent"])
    await say(agent, "Waarmee kan ik u helpen?")
    await expect(citizen.locator(".chat-msg__text", has_text="Waarmee kan ik")).to_be_visible()
    await expect(agent.locator(".idchat-card .idchat-badge")).to_be_visible()
    await scan(agent, "agent in a chat")
    await scan(citizen, "citizen in a chat")
    # Dates written out in the page's language, the citizen named in it.
    for page in (agent, citizen):
        await expect(page.locator(".date-separator .separator-text").first).to_have_text(today(lang))
        await expect(page.locator(".chat-msg__author", has_text=t["citizen"]).first).to_be_visible()
    await screenshot(citizen, request, "citizen-chat")
    await screenshot(agent, request, "agent-chat")

    # A reload of the citizen's page is told as such.
    await citizen.reload()
    await expect(citizen.locator(".idchat-status--assigned")).to_be_visible()
    await expect(agent.locator(".chat-info", has_text=t["reloaded"])).to_be_visible()
    await scan(agent, "agent after the citizen's reload")

    # The end, on both sides.
    await agent.locator(".idchat-card [data-action=end]").click()
    await scan(agent, "agent confirming the end")
    await agent.locator(".idchat-card [data-action=end-yes]").click()
    await expect(citizen.locator(".idchat-status--ended")).to_contain_text(t["ended"])
    await expect(agent.locator(".idchat-archive")).to_be_visible()
    await scan(agent, "agent, the chat ended")
    await scan(citizen, "citizen, the chat ended")
    await screenshot(agent, request, "agent-ended")
    await screenshot(citizen, request, "citizen-ended")

    # Error pages: the chat is gone; and the link in another browser.
    await citizen.goto(client_url + query)
    await expect(citizen.locator("h1")).to_have_text(t["gone"])
    await scan(citizen, "error page, chat gone")
    live_url = stack.start_session(ATTRS)
    first, holder, _ = await new_page(browser, stack, lang=t["accept"])
    await holder.goto(live_url + query)
    other, intruder, _ = await new_page(browser, stack, lang=t["accept"])
    await intruder.goto(live_url + query)
    await expect(intruder.locator("h1")).to_have_text(t["elsewhere"])
    await scan(intruder, "error page, open elsewhere")

    assert scan.states == 14
    assert scan.found == [], "\n".join(scan.found)
    assert agent_watch.errors == [] and citizen_watch.errors == []
    for context in (actx, cctx, first, other):
        await context.close()
