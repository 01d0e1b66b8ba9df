"""The end of a chat keeps the conversation on screen, read-only: the citizen can save it
from the browser (nothing kept on or sent to the server) until they close the page; the
agent keeps it, without the card, until they close it. Also when the chat went to
another agent because the agent's connection was gone too long."""

from __future__ import annotations

import re
import time

import pytest
from playwright.async_api import Request, expect

from test_queue_states import restart_component
from webstack import ATTRS, assert_accessible, citizen_in_chat, login_agent, say, screenshot

pytestmark = pytest.mark.e2e

QUESTION = "Ik ga op 1 december verhuizen naar de Kapelstraat 12."
ANSWER = "Dank u wel. Uw verhuizing is doorgegeven; u krijgt binnen 5 werkdagen een brief."

# A network the test can cut: the page's WebSockets are kept, and while window.__offline
# is set new ones fail to connect (as they do without a network).
CUTTABLE = """
(() => {
    const Native = window.WebSocket;
    window.__sockets = [];
    window.__offline = false;
    window.WebSocket = class extends Native {
        constructor (url, ...rest) {
            super(window.__offline ? 'ws://127.0.0.1:9/' : url, ...rest);
            window.__sockets.push(this);
        }
    };
})();
"""


@pytest.mark.server("prosody")  # the pages' own memory; ejabberd: the last test here
@pytest.mark.timeout(120)
async def test_the_conversation_stays_after_the_agent_ends_it(stack, browser, request, tmp_path) -> None:
    actx, agent, agent_watch = await login_agent(browser, stack, "romeo")
    cctx, citizen, watch = await citizen_in_chat(browser, stack, agent, ATTRS)
    await say(citizen, QUESTION)
    await say(agent, ANSWER)
    await expect(citizen.locator(".chat-msg__text", has_text="werkdagen")).to_be_visible()

    await agent.locator(".idchat-card [data-action=end]").click()
    await agent.locator(".idchat-card [data-action=end-yes]").click()

    # The citizen: told, and the conversation stays, read-only.
    await expect(citizen.locator(".idchat-status--ended")).to_contain_text("De medewerker heeft de chat beëindigd.")
    ended = citizen.locator(".idchat-ended")
    await expect(ended.locator(".idchat-transcript__text")).to_have_text([QUESTION, ANSWER])
    await expect(ended.locator(".idchat-transcript__meta strong")).to_have_text(["Inwoner", "Romeo"])
    await expect(citizen.locator("textarea")).to_have_count(0)
    await expect(citizen.locator(".idchat-details-status")).to_have_count(0)
    assert await citizen.evaluate("sessionStorage.length + localStorage.length") == 0
    await screenshot(citizen, request, "citizen-ended")
    await assert_accessible(citizen, "the citizen page, the conversation after the end")

    # The way back: the municipality's own page (ui.home_url), not a page that hangs.
    home = citizen.locator("a.idchat-home")
    await expect(home).to_have_attribute("href", "https://www.gemeente-voorbeeld.invalid/contact")
    await expect(home).to_have_text("Naar de website van Gemeente Voorbeeld")

    # "Save": a file written by the browser; no request leaves the page for it.
    sent: list[Request] = []
    citizen.on("request", lambda r: sent.append(r) if not r.url.startswith(("blob:", "data:")) else None)
    async with citizen.expect_download() as saving:
        await ended.locator("[data-action=save]").click()
    download = await saving.value
    assert re.fullmatch(r"chatgesprek-\d{4}-\d{2}-\d{2}\.txt", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert "Chat met Gemeente Voorbeeld" in text and "Onderwerp: Verhuizing doorgeven" in text
    assert re.search(r"\[\d\d:\d\d\] Inwoner: " + re.escape(QUESTION), text), text
    assert re.search(r"\[\d\d:\d\d\] Romeo: " + re.escape(ANSWER), text), text
    assert "Juliet" not in text and "999990019" not in text  # the card is not part of it
    await expect(ended.locator(".idchat-ended__saved")).to_contain_text("opgeslagen")
    assert sent == [], [r.url for r in sent]

    # The agent: the card and its values are gone, the conversation stays until closed.
    await expect(agent.locator(".idchat-card")).to_have_count(0)
    archive = agent.locator(".idchat-archive")
    await expect(archive.locator(".idchat-transcript__text")).to_have_text([QUESTION, ANSWER])
    await expect(archive).to_contain_text("Deze chat is beëindigd")
    for secret in ATTRS.values():
        assert secret not in await agent.locator("body").inner_text()
    await expect(agent.locator(".idchat-chat.is-ended")).to_have_count(1)
    await screenshot(agent, request, "agent-ended")
    await assert_accessible(agent, "the agent console, an ended conversation")
    await archive.locator("[data-action=close-chat]").click()
    await expect(agent.locator(".idchat-archive")).to_have_count(0)
    await expect(agent.locator(".idchat-chats__none")).to_be_visible()
    assert QUESTION not in await agent.content()

    # The citizen's page held the conversation in memory only: a reload finds the chat gone.
    response = await citizen.reload()
    assert response is not None and response.status == 404
    assert QUESTION not in await citizen.content()
    assert watch.errors == [] and agent_watch.errors == []
    await actx.close()
    await cctx.close()


@pytest.mark.server("prosody")
@pytest.mark.timeout(120)
async def test_the_conversation_stays_after_the_citizen_stops(stack, browser, request) -> None:
    actx, agent, _ = await login_agent(browser, stack, "romeo", lang="en-GB")
    cctx, citizen, _ = await citizen_in_chat(browser, stack, agent, ATTRS)
    await say(citizen, QUESTION)
    await say(agent, ANSWER)
    await expect(citizen.locator(".chat-msg__text", has_text="werkdagen")).to_be_visible()
    await citizen.locator("[data-action=stop]").click()
    await citizen.locator("[data-action=stop-yes]").click()
    await expect(citizen.locator(".idchat-status--ended")).to_contain_text("U heeft de chat beëindigd")
    await expect(citizen.locator(".idchat-ended .idchat-transcript__text")).to_have_text([QUESTION, ANSWER])

    archive = agent.locator(".idchat-archive")
    await expect(archive.locator(".idchat-transcript__text")).to_have_text([QUESTION, ANSWER])
    await expect(archive.locator(".idchat-transcript__meta strong")).to_have_text(["Citizen", "Romeo"])
    await expect(agent.locator(".idchat-desk__notice")).to_contain_text("was ended by the citizen")
    await expect(agent.locator(".idchat-card")).to_have_count(0)
    await screenshot(agent, request, "agent-after-citizen-stopped")
    await actx.close()
    await cctx.close()


@pytest.mark.timeout(150)
async def test_a_chat_that_went_to_another_agent_leaves_its_card_behind(stack, browser, request) -> None:
    """The agent's connection is gone past the grace period: the component gives the chat
    to the queue again and no longer lists it as theirs (§3). Back online, the console drops
    the card but keeps the conversation, read-only."""
    restart_component(stack, IDCHAT_ROUTING_AGENT_GRACE_SECONDS="2")
    actx, agent, awatch = await login_agent(browser, stack, "romeo", init_script=CUTTABLE)
    cctx, citizen, _ = await citizen_in_chat(browser, stack, agent, ATTRS)
    await say(citizen, QUESTION)
    await expect(agent.locator(".chat-msg__text", has_text="Kapelstraat")).to_be_visible()

    # The network goes. The server sees the stream end (a clean close: stream management
    # would keep a session that merely went quiet for a minute); the console cannot reconnect.
    await agent.evaluate("""() => { window.__offline = true;
        window.__sockets.filter((s) => s.readyState === 1).forEach((s) => {
            s.send('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>'); s.close(); }); }""")
    await expect(agent.locator(".idchat-desk__problem")).to_be_visible()
    # Past the grace period the citizen is back at the front of the queue; nobody else is on
    # duty, so shortly after (routing.no_agent_timeout_seconds) they hear that too, and the
    # page still says why they are waiting again.
    status = citizen.locator(".idchat-status")
    await expect(status).to_contain_text("De verbinding met de medewerker is verbroken", timeout=20000)
    await expect(status).to_contain_text("Er is op dit moment geen medewerker beschikbaar", timeout=10000)
    await expect(status).to_contain_text("De verbinding met de medewerker is verbroken")
    started = time.monotonic()
    await agent.evaluate("window.__offline = false")
    await expect(agent.locator(".idchat-card")).to_have_count(0, timeout=30000)
    archive = agent.locator(".idchat-archive")
    await expect(archive.locator(".idchat-transcript__text")).to_have_text([QUESTION])
    await expect(agent.locator(".idchat-desk__notice")).to_contain_text("overgedragen aan een andere medewerker")
    assert "Juliet" not in await agent.locator("body").inner_text()
    assert time.monotonic() - started < 30
    await screenshot(agent, request, "agent-chat-moved")
    await actx.close()
    await cctx.close()
