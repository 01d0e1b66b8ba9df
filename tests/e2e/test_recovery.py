"""Reloads and lost connections: the chat goes on, nobody is left without a message."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from webstack import (
    ATTRS,
    assert_accessible,
    citizen_in_chat,
    login_agent,
    new_page,
    say,
    screenshot,
)

pytestmark = pytest.mark.e2e

WAITING = ".idchat-status--queued, .idchat-status--no-agent"

# Keeps every WebSocket the page opens, so a test can cut the connection as a network would;
# while window.__offline is set, new connections fail (a path the server does not serve), so
# the outage lasts as long as the test wants, however fast the server lets a client back.
KEEP_SOCKETS = """
(() => {
    const Native = window.WebSocket;
    window.__sockets = [];
    window.__offline = false;
    window.WebSocket = class extends Native {
        constructor (url, ...rest) {
            super(window.__offline ? url + '-offline' : url, ...rest);
            window.__sockets.push(this);
        }
    };
})();
"""



@pytest.mark.timeout(90)
async def test_a_citizen_reload_keeps_the_chat(stack, browser, request) -> None:
    actx, agent, _ = await login_agent(browser, stack, "romeo")
    cctx, citizen, watch = await citizen_in_chat(browser, stack, agent, ATTRS)
    await say(citizen, "Voor de reload.")
    await expect(agent.locator(".chat-msg__text", has_text="Voor de reload.")).to_be_visible()

    await citizen.reload()
    await expect(citizen.locator(".idchat-status--assigned")).to_contain_text("Romeo helpt u nu.")
    await say(citizen, "Na de reload.")
    await expect(agent.locator(".chat-msg__text", has_text="Na de reload.")).to_be_visible()
    await say(agent, "Ik zie uw bericht.")
    await expect(citizen.locator(".chat-msg__text", has_text="Ik zie uw bericht.")).to_be_visible()
    await expect(agent.locator(".idchat-card")).to_have_count(1)
    await screenshot(citizen, request, "after-reload")

    # The citizen stops: the agent is told and the card goes.
    await citizen.locator("[data-action=stop]").click()
    await citizen.locator("[data-action=stop-yes]").click()
    await expect(agent.locator(".idchat-desk__notice")).to_contain_text("beëindigd door de inwoner")
    await expect(agent.locator(".idchat-card")).to_have_count(0)
    watch.assert_stayed_home()
    assert watch.errors == []
    await actx.close()
    await cctx.close()


@pytest.mark.timeout(90)
async def test_an_agent_reload_brings_back_chats_and_cards(stack, browser, request) -> None:
    actx, agent, watch = await login_agent(browser, stack, "romeo")
    cctx, citizen, _ = await citizen_in_chat(browser, stack, agent, ATTRS)

    await agent.reload()
    # Signed in again without the password (SCRAM keys kept in this tab only).
    card = agent.locator(".idchat-card")
    await expect(card.locator("[data-attribute=fullname] dd")).to_have_text("Juliet Capulet")
    await expect(card.locator(".idchat-badge")).to_have_text("✔ Geverifieerd")
    await say(citizen, "Bent u er nog?")
    await expect(agent.locator(".chat-msg__text", has_text="Bent u er nog?")).to_be_visible()
    await say(agent, "Ja, ik ben er nog.")
    await expect(citizen.locator(".chat-msg__text", has_text="Ja, ik ben er nog.")).to_be_visible()
    await screenshot(agent, request, "after-reload")
    await assert_accessible(agent, "the agent console after a reload")
    watch.assert_stayed_home()
    await actx.close()
    await cctx.close()


@pytest.mark.timeout(90)
async def test_a_lost_connection_is_told_and_the_chat_goes_on(stack, browser, request) -> None:
    actx, agent, _ = await login_agent(browser, stack, "romeo")
    cctx, citizen, watch = await citizen_in_chat(browser, stack, agent, ATTRS)
    await citizen.add_init_script(KEEP_SOCKETS)
    await citizen.reload()
    await expect(citizen.locator(".idchat-status--assigned")).to_be_visible()

    await citizen.evaluate("window.__offline = true; window.__sockets.forEach((s) => s.close())")
    status = citizen.locator(".idchat-status")
    await expect(status).to_contain_text("De verbinding is verbroken.")
    await screenshot(citizen, request, "connection-lost")
    await assert_accessible(citizen, "the citizen page, connection lost")
    await citizen.evaluate("window.__offline = false")
    await expect(status).to_contain_text("De verbinding is hersteld.", timeout=20000)
    await expect(citizen.locator(".idchat-status--assigned")).to_contain_text("Romeo helpt u nu.")
    await say(citizen, "Weer verbonden.")
    await expect(agent.locator(".chat-msg__text", has_text="Weer verbonden.")).to_be_visible()
    await screenshot(citizen, request, "connection-back")
    watch.assert_stayed_home()
    await actx.close()
    await cctx.close()


@pytest.mark.timeout(90)
async def test_the_page_waits_for_a_component_that_is_briefly_away(stack, browser, request) -> None:
    stack.stop_component()
    client_url = stack.start_session(ATTRS)
    cctx, citizen, watch = await new_page(browser, stack, width=360, height=740)
    await citizen.goto(client_url)
    # Retrying, or given up: whichever comes first, so a page that gives up fails at once.
    status = citizen.locator(".idchat-status")
    await status.filter(has_text=re.compile("Dit duurt langer dan normaal|kon niet worden gestart")) \
        .wait_for(timeout=20000)
    await expect(status).to_contain_text("Dit duurt langer dan normaal", timeout=1000)
    await screenshot(citizen, request, "retrying")
    await assert_accessible(citizen, "the citizen page, retrying the claim")
    stack.start_component()
    await expect(citizen.locator(WAITING)).to_be_visible(timeout=30000)
    watch.assert_stayed_home()
    await cctx.close()
