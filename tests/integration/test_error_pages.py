"""Error pages a person understands, in the page's language; the problem JSON for API
clients unchanged. And the citizen page's question whether the details have arrived."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tokenlab import ATTRS, token
from xmpp_plugin.app import create_app
from xmpp_plugin.errors import PROBLEM_TYPES
from xmpp_plugin.i18n import error_text
from xmpp_plugin.settings import Settings

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings) -> TestClient:
    return await aiohttp_client(TestServer(create_app(settings)))


async def start(client: TestClient, **body: Any) -> str:
    resp = await client.post("/start_communication", json={"purpose": "report_move", **body})
    assert resp.status == 200, await resp.text()
    return "/s/" + (await resp.json())["client_url"].rsplit("/s/", 1)[1]


def main_text(page: str) -> str:
    """What the page says in <main>, without markup."""
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main.split(">", 1)[1])).strip()


def assert_no_jargon(text: str) -> None:
    """No problem type, path or English library detail in what a person reads (a one-word
    type such as "unavailable" is also a word of the English text)."""
    for slug in PROBLEM_TYPES:
        assert f"/problems/{slug}" not in text, (slug, text)
        assert "-" not in slug or slug not in text, (slug, text)
    assert "/s/" not in text and "no such session" not in text, text


@pytest.mark.parametrize("lang, accept, heading, advice", [
    ("nl", "nl-NL,nl;q=0.9", "Deze chat bestaat niet meer", "Start dan een nieuwe chat"),
    ("en", "en-GB,en;q=0.9", "This chat no longer exists", "Start a new chat"),
])
async def test_an_unknown_chat_in_the_readers_language(client: TestClient, lang: str, accept: str,
                                                       heading: str, advice: str) -> None:
    page = await client.get("/s/unknown", headers={**HTML, "Accept-Language": accept})
    assert page.status == 404
    body = await page.text()
    assert f'<html lang="{lang}">' in body
    text = main_text(body)
    assert text.startswith(heading) and advice in text, text
    assert_no_jargon(text)
    # The machine-readable answer is what it always was.
    problem = await client.get("/s/unknown")
    assert problem.content_type == "application/problem+json"
    assert (await problem.json())["type"] == "/problems/unknown-session"


async def test_the_lang_switch_wins_over_the_browser(client: TestClient) -> None:
    page = await client.get("/s/unknown?lang=en", headers={**HTML, "Accept-Language": "nl"})
    assert "This chat no longer exists" in main_text(await page.text())


async def test_a_link_open_in_another_browser_gets_its_own_advice(client: TestClient,
                                                                  aiohttp_client: Any) -> None:
    page = await start(client, auth_result=token())
    assert (await client.get(page)).status == 200
    other = await aiohttp_client(client.server)  # another browser: an empty cookie jar
    for accept, heading, advice in (
            ("nl", "Deze chat is al geopend in een andere browser",
             "Ga verder in de browser waarin u de chat als eerste opende"),
            ("en", "This chat is already open in another browser",
             "Continue in the browser where you first opened the chat")):
        resp = await other.get(page, headers={**HTML, "Accept-Language": accept})
        assert resp.status == 403
        text = main_text(await resp.text())
        assert text.startswith(heading) and advice in text, text
        # Not the advice for an ended chat: the chat is alive, in the other browser.
        assert "bestaat niet meer" not in text and "no longer exists" not in text
        assert_no_jargon(text)


async def test_every_problem_type_has_words_in_both_languages() -> None:
    """No problem type falls through to English or to its slug; the unknown ones get the
    general words, which name no type either."""
    for lang in ("nl", "en"):
        for slug in PROBLEM_TYPES:
            heading, what, advice = error_text(slug, lang)
            assert heading and what and advice, (lang, slug)
            assert_no_jargon(" ".join((heading, what, advice)))
    assert error_text("result-other-browser", "nl") == error_text("chat-open-elsewhere", "nl")
    assert error_text("token-expired", "en") == error_text("invalid-token", "en")
    assert error_text("no-such-type", "nl")[0] == "Er ging iets mis"


async def test_a_token_that_cannot_be_checked_says_log_in_again(client: TestClient) -> None:
    page = await start(client)
    resp = await client.get(page + "?result=not-a-token", headers={**HTML, "Accept-Language": "nl"},
                            allow_redirects=False)
    assert resp.status == 400
    text = main_text(await resp.text())
    assert text.startswith("Uw inloggegevens konden niet worden gecontroleerd"), text
    assert "log opnieuw in" in text
    assert_no_jargon(text)
    assert "token" not in text.lower()


async def test_the_details_status_follows_the_session(client: TestClient, aiohttp_client: Any) -> None:
    """Status only (never a value), and only to the browser that holds the chat."""
    page = await start(client)
    assert (await client.get(page)).status == 200
    first = await client.get(page + "/details")
    assert first.status == 200 and await first.json() == {"status": "pending"}
    delivered = await client.get(page + "?result=" + token(), allow_redirects=False)
    assert delivered.status == 303
    after = await client.get(page + "/details")
    text = await after.text()
    assert await after.json() == {"status": "verified"}
    assert not [value for value in ATTRS.values() if value in text]
    other = await aiohttp_client(client.server)
    refused = await other.get(page + "/details")
    assert refused.status == 403 and (await refused.json())["type"] == "/problems/chat-open-elsewhere"
    unknown = await client.get("/s/unknown/details")
    assert unknown.status == 404
