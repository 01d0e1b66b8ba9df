"""A whole chat in two browsers: the citizen page and the agent console against the real stack."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.async_api import Page, Request, expect

from webstack import ARTIFACTS, ATTRS, assert_accessible, login_agent, new_page, say, screenshot

pytestmark = pytest.mark.e2e

WAITING = ".idchat-status--queued, .idchat-status--no-agent"

# Counts the tones the console plays (WebAudio oscillators), so the chime can be heard in a test.
COUNT_TONES = """
(() => {
    window.__tones = 0;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return start.apply(this, args); };
})();
"""


class Transfer:
    """Bytes a page moved: HTTP bodies and headers, and WebSocket frames."""

    def __init__(self, page: Page) -> None:
        self.requests: list[Request] = []
        self.ws_bytes = 0
        page.on("requestfinished", lambda req: self.requests.append(req))
        page.on("websocket", lambda ws: (
            ws.on("framesent", self._frame), ws.on("framereceived", self._frame)))

    def _frame(self, payload: str | bytes) -> None:
        self.ws_bytes += len(payload.encode() if isinstance(payload, str) else payload)

    async def http_bytes(self) -> int:
        total = 0
        for req in self.requests:
            sizes = await req.sizes()
            total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        return total


def record(request: pytest.FixtureRequest, **metrics: Any) -> None:
    """Measurements, not assertions: printed and kept under tests/artifacts/e2e/."""
    for name, value in metrics.items():
        request.node.user_properties.append((name, value))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "metrics.jsonl").open("a") as out:
        out.write(json.dumps({"test": request.node.name, **metrics}) + "\n")
    print("e2e metrics:", metrics)


@pytest.mark.timeout(120)
async def test_full_chat_between_citizen_and_agent(stack, browser, request) -> None:
    actx, agent, agent_watch = await login_agent(browser, stack, "romeo", init_script=COUNT_TONES,
                                                check_login_page=True)
    await screenshot(agent, request, "01-agent-available")
    await assert_accessible(agent, "the agent console, available, no offers")

    client_url = stack.start_session(ATTRS)
    cctx, citizen, citizen_watch = await new_page(browser, stack, width=360, height=740)
    transfer = Transfer(citizen)
    started = time.monotonic()
    await citizen.goto(client_url)
    # An agent is available: the offer goes out at once, and the page says so.
    await citizen.locator(".idchat-status--offered").wait_for()
    waiting_ms = round((time.monotonic() - started) * 1000)
    await expect(citizen.locator(".idchat-status")).to_contain_text("Een medewerker bekijkt uw vraag.")
    await screenshot(citizen, request, "02-citizen-waiting")
    await assert_accessible(citizen, "the citizen page, waiting")
    record(request, citizen_navigation_to_waiting_ms=waiting_ms,
           citizen_http_bytes=await transfer.http_bytes(), citizen_websocket_bytes=transfer.ws_bytes)

    # The offer: the topic in Dutch, how long the citizen waits, a countdown; no personal data.
    offer = agent.locator("idchat-offer")
    await expect(offer).to_contain_text("Verhuizing doorgeven")
    await expect(offer.locator(".idchat-offer__countdown")).to_contain_text(" s ")
    await expect(offer.locator(".idchat-offer__waiting")).to_contain_text("Wacht al")
    await expect(offer).not_to_contain_text("Juliet")
    assert (await agent.title()).startswith("(1) ")
    assert await agent.evaluate("window.__tones") >= 2, "no chime for the offer"
    await screenshot(agent, request, "03-agent-offer")
    await assert_accessible(agent, "the agent console with an offer")
    await offer.locator("[data-action=accept]").click()

    # The identity card: verified, Dutch labels, values, provenance.
    card = agent.locator(".idchat-card")
    await expect(card.locator(".idchat-badge")).to_have_text("✔ Geverifieerd")
    for label, value in (("Naam", "Juliet Capulet"), ("BSN", "999990019"),
                         ("E-mailadres", "juliet@capulet.lit"), ("Woonplaats", "Verona")):
        item = card.locator(".idchat-card__attribute", has=agent.locator("dt", has_text=label))
        await expect(item.locator("dd")).to_have_text(value)
    await expect(card).to_contain_text("Verhuizing doorgeven")
    await expect(card.locator(".idchat-card__provenance")).to_contain_text("Geverifieerd op")
    assert "Juliet" in await agent.content()      # the control for "gone from the page" below

    await expect(citizen.locator(".idchat-status--assigned")).to_contain_text("Romeo helpt u nu.")
    await screenshot(citizen, request, "04-citizen-assigned")
    await assert_accessible(citizen, "the citizen page, with an agent")

    # Both ways, and the citizen's screen reader hears the agent.
    await citizen.locator("textarea.chat-textarea").fill("Goedemiddag, ik ga verhuizen.")
    await citizen.locator("textarea.chat-textarea").press("Enter")
    await expect(agent.locator(".chat-msg__text", has_text="ik ga verhuizen")).to_be_visible()
    await agent.locator("textarea.chat-textarea").fill("Prima, waar gaat u naartoe?")
    await agent.locator("textarea.chat-textarea").press("Enter")
    await expect(citizen.locator(".chat-msg__text", has_text="waar gaat u naartoe")).to_be_visible()
    await expect(citizen.locator(".idchat-citizen [role=log]")).to_contain_text(
        "Nieuw bericht van Romeo: Prima, waar gaat u naartoe?")
    await screenshot(agent, request, "05-agent-chatting")
    await screenshot(citizen, request, "05-citizen-chatting")
    await assert_accessible(agent, "the agent console in a chat, with the identity card")

    # The agent ends the chat: both sides are told, the card and its values leave the page,
    # and the citizen's browser forgets what it kept (it did keep something until now).
    assert await citizen.evaluate("sessionStorage.length") > 0
    await card.locator("[data-action=end]").click()
    await card.locator("[data-action=end-yes]").click()
    await expect(citizen.locator(".idchat-status--ended")).to_contain_text(
        "De medewerker heeft de chat beëindigd.")
    await expect(citizen.locator(".idchat-status--ended")).to_contain_text("nieuwe chat")
    await expect(agent.locator(".idchat-card")).to_have_count(0)
    await expect(agent.locator(".idchat-desk__notice")).to_contain_text("beëindigd door u")
    assert "Juliet" not in await agent.content()
    await screenshot(citizen, request, "06-citizen-ended")
    await assert_accessible(citizen, "the citizen page, ended")
    assert await citizen.evaluate("sessionStorage.length") == 0

    for watch in (citizen_watch, agent_watch):
        watch.assert_stayed_home()
        assert watch.errors == []
    await actx.close()
    await cctx.close()


@pytest.mark.timeout(90)
async def test_no_agent_then_citizen_stops(stack, browser, request) -> None:
    """Nobody available: the alternative, in English here; then the stop button logs out."""
    client_url = stack.start_session(ATTRS)
    cctx, citizen, watch = await new_page(browser, stack, width=360, height=740, lang="en-GB")
    await citizen.goto(client_url + "?lang=en")
    await expect(citizen.locator(".idchat-status--queued")).to_contain_text("You are next in the queue.")
    await expect(citizen.locator(".idchat-status")).to_contain_text("You can already type your question")
    status = citizen.locator(".idchat-status--no-agent")
    await expect(status).to_contain_text("No agent is available at the moment.")
    await expect(status).to_contain_text("Call us on 14 020")
    await screenshot(citizen, request, "01-no-agent")
    # 360 px wide: nothing sticks out sideways.
    assert await citizen.evaluate("document.documentElement.scrollWidth") <= 360
    # The citizen may type while waiting.
    await say(citizen, "My question is about moving house.")
    await expect(citizen.locator(".chat-msg__text", has_text="moving house")).to_be_visible()
    await assert_accessible(citizen, "the citizen page, no agent available")
    assert await citizen.evaluate("sessionStorage.length") > 0   # the control for the end

    await citizen.locator("[data-action=stop]").click()
    await expect(citizen.locator("[data-action=stop-no]")).to_be_focused()
    await citizen.keyboard.press("Shift+Tab")
    await expect(citizen.locator("[data-action=stop-yes]")).to_be_focused()
    await citizen.keyboard.press("Enter")
    await expect(citizen.locator(".idchat-status--ended")).to_contain_text(
        "You have ended the chat and are logged out.")
    await expect(citizen.locator(".idchat-conversation")).to_be_hidden()
    await screenshot(citizen, request, "02-stopped")
    await assert_accessible(citizen, "the citizen page, stopped by the citizen")
    assert await citizen.evaluate("sessionStorage.length") == 0
    # The session is gone on the server too: the link no longer opens a chat.
    response = await citizen.goto(client_url)
    assert response is not None and response.status == 404
    watch.assert_stayed_home()
    assert watch.errors == []
    await cctx.close()


@pytest.mark.timeout(90)
async def test_details_that_arrive_later_update_the_card_live(stack, browser, request) -> None:
    """'Waiting for details' until they come; a failed authentication is unmistakable."""
    actx, agent, _ = await login_agent(browser, stack, "romeo")
    client_url, attr_url = stack.start_pending_session(purpose="request_passport")
    cctx, citizen, _ = await new_page(browser, stack, width=360, height=740)
    await citizen.goto(client_url)
    await expect(citizen.locator(".idchat-details-status")).to_contain_text("nog opgehaald")
    await agent.locator("idchat-offer [data-action=accept]").click()
    card = agent.locator(".idchat-card")
    await expect(card.locator(".idchat-badge")).to_contain_text("Wachten op gegevens")
    await expect(card).to_contain_text("Paspoort aanvragen")
    await expect(card.locator(".idchat-card__attribute")).to_have_count(0)
    await screenshot(agent, request, "01-waiting-for-details")
    await assert_accessible(agent, "the agent console, waiting for details")

    stack.deliver(attr_url, None)  # the authentication failed
    await expect(card.locator(".idchat-badge")).to_have_text("⚠ Niet geverifieerd")
    await expect(card.locator(".idchat-badge")).to_have_css("text-transform", "uppercase")
    await expect(card).to_contain_text("NIET geverifieerd")
    await expect(card).to_have_class("idchat-card idchat-card--not_verified")
    await screenshot(agent, request, "02-not-verified")
    await assert_accessible(agent, "the agent console, not verified")
    await actx.close()
    await cctx.close()


@pytest.mark.timeout(60)
async def test_a_question_typed_while_waiting_reaches_the_agent(stack, browser) -> None:
    client_url = stack.start_session(ATTRS)
    cctx, citizen, _ = await new_page(browser, stack, width=360, height=740)
    await citizen.goto(client_url)
    await citizen.locator(WAITING).wait_for()
    await say(citizen, "Mijn vraag gaat over een verhuizing.")
    await expect(citizen.locator(".chat-msg__text", has_text="Mijn vraag")).to_be_visible()
    actx, agent, _ = await login_agent(browser, stack, "romeo")
    await agent.locator("idchat-offer [data-action=accept]").click()
    await expect(agent.locator(".chat-msg__text", has_text="Mijn vraag")).to_be_visible(timeout=5000)
    await actx.close()
    await cctx.close()
