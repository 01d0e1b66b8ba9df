"""The citizen page says what is true while waiting (docs/protocol.md §2): nobody on duty
at once, an offer out, back in the queue, the expected wait, the details' status."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request

import pytest
import redis
from playwright.async_api import Page, expect

from webstack import ATTRS, Stack, assert_accessible, login_agent, new_page, screenshot

pytestmark = pytest.mark.e2e

# Every text the status line has shown, in order (the page re-renders it on each change).
RECORD_STATUS = """
(() => {
    window.__statusHistory = [];
    const record = () => {
        const el = document.querySelector('.idchat-status');
        const text = el ? el.textContent.replace(/\\s+/g, ' ').trim() : '';
        const last = window.__statusHistory[window.__statusHistory.length - 1];
        if (text && text !== last) window.__statusHistory.push(text);
    };
    new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true });
})();
"""

NEXT = "U bent de volgende"
NO_AGENT = "Er is op dit moment geen medewerker beschikbaar."
OFFERED = "Een medewerker bekijkt uw vraag."


def restart_component(stack: Stack, **settings: str) -> None:
    """The stack's component again, with other routing settings (the real defaults unless given)."""
    stack.stop_component()
    stack.env.update(settings)
    stack.start_component()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(stack.base_url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError("the component did not come back\n" + stack.log_tail())


async def history(page: Page) -> list[str]:
    return list(await page.evaluate("window.__statusHistory"))


@pytest.mark.timeout(120)
async def test_the_queue_states_follow_what_is_true(stack, browser, request) -> None:
    restart_component(stack, IDCHAT_ROUTING_NO_AGENT_TIMEOUT_SECONDS="0")
    cctx, citizen, watch = await new_page(browser, stack, width=360, height=740, init_script=RECORD_STATUS)
    await citizen.goto(stack.start_session(ATTRS))

    # Nobody on duty: said at once, with the alternative; never "you are next".
    status = citizen.locator(".idchat-status")
    started = time.monotonic()
    await expect(citizen.locator(".idchat-status--no-agent")).to_contain_text(NO_AGENT, timeout=5000)
    assert time.monotonic() - started < 3
    await expect(status).to_contain_text("Bel ons op 14 020")
    await screenshot(citizen, request, "01-no-agent")
    await assert_accessible(citizen, "the citizen page, nobody on duty")

    # An agent comes on duty: the offer goes out at once, and the page says so.
    actx, agent, _ = await login_agent(browser, stack, "romeo")
    await expect(citizen.locator(".idchat-status--offered")).to_contain_text(OFFERED)
    await screenshot(citizen, request, "02-offered")
    # Declined: back in the queue, first in line — an agent is on duty, so not "no agent".
    await agent.locator("idchat-offer [data-action=decline]").click()
    await expect(citizen.locator(".idchat-status--queued")).to_contain_text("U bent de volgende in de wachtrij.")
    await expect(status).not_to_contain_text(NO_AGENT)
    await screenshot(citizen, request, "03-queued-after-decline")

    # The last agent goes off duty: nobody on duty, at once.
    await agent.locator(".idchat-switch").click()
    await expect(citizen.locator(".idchat-status--no-agent")).to_contain_text(NO_AGENT, timeout=5000)
    # Back on duty: the page leaves "no agent" (a returning agent is offered the chat at once).
    await agent.locator(".idchat-switch").click()
    await expect(citizen.locator(".idchat-status--offered")).to_contain_text(OFFERED)
    await agent.locator("idchat-offer [data-action=accept]").click()
    await expect(citizen.locator(".idchat-status--assigned")).to_contain_text("Romeo helpt u nu.")

    shown = await history(citizen)
    no_agent_at = [i for i, text in enumerate(shown) if NO_AGENT in text]
    assert no_agent_at, shown
    # Before the first "no agent" and while nobody was on duty, never "you are next"; and
    # never "no agent" together with an offer.
    assert not [t for t in shown[:no_agent_at[0]] if NEXT in t], shown
    assert not [t for t in shown if NO_AGENT in t and (OFFERED in t or NEXT in t)], shown
    assert [t for t in shown if OFFERED in t], shown
    assert watch.errors == [] and watch.foreign == []
    await actx.close()
    await cctx.close()


@pytest.mark.server("prosody")  # the component's estimate and the page's words
@pytest.mark.timeout(90)
async def test_the_expected_wait_is_told_in_plain_words(stack, browser, request) -> None:
    # Three chats of four minutes each were handled before; one agent with room for one chat.
    client = redis.Redis.from_url(stack.env["IDCHAT_REDIS_URL"])
    client.lpush(f"{stack.env['IDCHAT_REDIS_KEY_PREFIX']}:stats:handling", 240000, 240000, 240000)
    client.close()
    actx, agent, _ = await login_agent(browser, stack, "romeo", max_chats=1)
    first, juliet, _ = await new_page(browser, stack, width=360, height=740)
    await juliet.goto(stack.start_session(ATTRS))
    await agent.locator("idchat-offer [data-action=accept]").click()
    await expect(juliet.locator(".idchat-status--assigned")).to_be_visible()

    # The next citizen waits for the agent, busy with the first: about four minutes.
    second, tybalt, _ = await new_page(browser, stack, width=360, height=740)
    await tybalt.goto(stack.start_session({"fullname": "Tybalt Capulet"}))
    queued = tybalt.locator(".idchat-status--queued")
    await expect(queued).to_contain_text("U bent de volgende in de wachtrij.")
    await expect(queued.locator(".idchat-wait")).to_have_text("Verwachte wachttijd: ongeveer 4 minuten.")
    await screenshot(tybalt, request, "expected-wait")
    await assert_accessible(tybalt, "the citizen page with the expected wait")

    # In English, the same wait in English words.
    await tybalt.goto(tybalt.url.split("?")[0] + "?lang=en")
    await expect(tybalt.locator(".idchat-status--queued .idchat-wait")).to_have_text(
        "Expected waiting time: about 4 minutes.")
    for context in (actx, first, second):
        await context.close()


@pytest.mark.server("prosody")  # the HTTP service and the page only
@pytest.mark.timeout(90)
async def test_the_details_line_follows_the_details_and_goes_at_the_end(stack, browser, request) -> None:
    client_url, attr_url = stack.start_pending_session()
    cctx, citizen, _ = await new_page(browser, stack, width=360, height=740)
    await citizen.goto(client_url)
    details = citizen.locator(".idchat-details-status")
    await expect(details).to_have_text("Uw gegevens worden nog opgehaald.")
    await asyncio.to_thread(stack.deliver, attr_url, ATTRS)
    await expect(details).to_have_text("Uw gegevens zijn ontvangen en geverifieerd.", timeout=10000)

    await citizen.locator("[data-action=stop]").click()
    await citizen.locator("[data-action=stop-yes]").click()
    await expect(citizen.locator(".idchat-status--ended")).to_be_visible()
    await expect(details).to_have_count(0)
    assert "geverifieerd" not in await citizen.locator("main").inner_text()
    await screenshot(citizen, request, "ended-without-details-line")
    await cctx.close()
