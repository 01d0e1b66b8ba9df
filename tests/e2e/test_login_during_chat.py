"""Authentication during the chat in two browsers (docs/protocol.md §11): the agent asks, the
citizen presses "Log in met DigiD", logs in at the demo's core simulator, comes back to the
same conversation, and the agent's card turns verified; asked again, the citizen declines."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from webstack import (
    TEST_PRIVKEY,
    TEST_PUBKEY,
    assert_accessible,
    citizen_in_chat,
    login_agent,
    say,
    screenshot,
)

pytestmark = pytest.mark.e2e

# The HTTP service plays the ID Contact core too (the demo's simulator, published test keys).
AUTH_ENV = {
    "IDCHAT_AUTH_CORE_URL": "{base}/demo/core", "IDCHAT_AUTH_REQUESTOR": "idchat-e2e",
    "IDCHAT_AUTH_REQUEST_PRIVKEY_TYPE": "RSA", "IDCHAT_AUTH_REQUEST_PRIVKEY_FILE": str(TEST_PRIVKEY),
    "IDCHAT_DEMO_CORE_SIMULATOR": "true",
    "IDCHAT_DEMO_ENCRYPTION_PUBKEY_TYPE": "RSA", "IDCHAT_DEMO_ENCRYPTION_PUBKEY_FILE": str(TEST_PUBKEY),
    "IDCHAT_DEMO_SIGNING_PRIVKEY_TYPE": "RSA", "IDCHAT_DEMO_SIGNING_PRIVKEY_FILE": str(TEST_PRIVKEY),
    "IDCHAT_DEMO_REQUESTOR_PUBKEY_TYPE": "RSA", "IDCHAT_DEMO_REQUESTOR_PUBKEY_FILE": str(TEST_PUBKEY),
}


@pytest.mark.server("prosody")  # the servers differ below the component: tests/integration covers both
@pytest.mark.stack_env(**AUTH_ENV)
@pytest.mark.timeout(150)
async def test_the_agent_asks_the_citizen_logs_in_and_comes_back_verified(stack, browser, request) -> None:
    _, agent, agent_watch = await login_agent(browser, stack, "romeo")
    _, citizen, citizen_watch = await citizen_in_chat(browser, stack, agent, None)  # a failed login
    client_url = citizen.url
    card = agent.locator(".idchat-card")
    await expect(card.locator(".idchat-badge")).to_have_attribute("data-status", "not_verified")
    await say(citizen, "Is mijn paspoort al klaar?")
    await expect(agent.locator(".chat-msg__text", has_text="Is mijn paspoort al klaar?")).to_be_visible()

    # The agent asks: the methods the core allows, DigiD first.
    await card.locator("[data-action=auth-ask]").click()
    await expect(card.locator("input[name=method]")).to_have_count(2)
    await card.locator("[data-action=auth-send]").click()
    await card.locator("[data-auth-state=requested]").wait_for()
    await assert_accessible(agent, "the agent console, waiting for the citizen to log in")

    # The citizen sees one clear button, and a way to say no.
    login = citizen.locator("a.idchat-auth__login")
    await expect(login).to_have_text("Log in met DigiD om verder te gaan")
    await expect(citizen.locator("[data-action=auth-decline]")).to_be_visible()
    await screenshot(citizen, request, "01-citizen-asked-to-log-in")
    await assert_accessible(citizen, "the citizen page, asked to log in")
    await login.click()

    # The (simulated) core: log in as the first person; back to the same chat.
    await citizen.locator("button[value=login]").wait_for()
    await assert_accessible(citizen, "the simulated login page")
    await citizen.locator("#person-0").check()
    await citizen.locator("button[value=login]").click()
    await citizen.wait_for_url(client_url)
    await expect(citizen.locator(".idchat-details-status")).to_have_attribute("data-details", "verified")
    await citizen.locator(".idchat-status--assigned").wait_for()
    await expect(citizen.locator(".chat-msg__text", has_text="Is mijn paspoort al klaar?")).to_be_visible()
    await screenshot(citizen, request, "02-citizen-back-verified")

    # The agent's card turned verified while the chat went on.
    await expect(card.locator(".idchat-badge")).to_have_attribute("data-status", "verified")
    await expect(card.locator("[data-attribute=fullname] dd")).to_have_text("Juliet Capulet")
    await expect(card.locator("[data-auth=verified]")).to_be_visible()
    await screenshot(agent, request, "03-agent-card-verified")
    await assert_accessible(agent, "the agent console, the card verified during the chat")

    # Asked again, the citizen declines: the agent is told, the chat goes on.
    await card.locator("[data-action=auth-ask]").click()
    await card.locator("[data-action=auth-send]").click()
    await citizen.locator("[data-action=auth-decline]").click()
    await expect(card.locator("[data-auth=declined]")).to_be_visible()
    await expect(citizen.locator(".idchat-auth--declined")).to_be_visible()
    await expect(card.locator(".idchat-badge")).to_have_attribute("data-status", "verified")
    await say(agent, "Dan zoek ik het zo voor u op.")
    await expect(citizen.locator(".chat-msg__text", has_text="Dan zoek ik het zo voor u op.")).to_be_visible()

    for watch in (agent_watch, citizen_watch):
        watch.assert_stayed_home()
        assert watch.errors == []
