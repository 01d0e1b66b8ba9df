"""The agent's sign-in says what went wrong; logging out is a visible button; a reload
keeps the agent signed in without the password being stored; one availability control;
and the console listens to the component only."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from integration.xmpp_clients import close, connect_agent
from webstack import (
    AGENT_DOMAIN,
    AGENT_PASSWORD,
    ATTRS,
    agent_credentials,
    assert_accessible,
    login_agent,
    new_page,
    screenshot,
)

pytestmark = pytest.mark.e2e

NS = "https://idchat.nl/protocol/chat/1"
STORAGE = """() => [sessionStorage, localStorage].map((s) => Object.keys(s).map((k) => [k, s.getItem(k)]))"""


@pytest.mark.timeout(120)
async def test_sign_in_errors_logout_and_a_reload_without_the_password(stack, browser, request) -> None:
    ctx, page, watch = await new_page(browser, stack)
    await page.goto(stack.base_url + "/agent")
    await assert_accessible(page, "the console's sign-in")

    # A wrong password and an unknown account: the same plain words, the form stays.
    for name, password in (("romeo", "not-the-password"), ("nobody", AGENT_PASSWORD)):
        await agent_credentials(page, name, password)
        error = page.locator(".idchat-signin__error")
        await expect(error).to_have_text("Inloggen is niet gelukt: de gebruikersnaam of het wachtwoord klopt niet. "
                                         "Probeer het opnieuw.", timeout=10000)
        await expect(page.locator("#idchat-password")).to_be_focused()
        await expect(page.locator("#idchat-password")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#idchat-username")).to_be_visible()
    await screenshot(page, request, "wrong-password")
    await assert_accessible(page, "the console's sign-in after a wrong password")

    await agent_credentials(page, "romeo")
    await expect(page.locator(".idchat-account__name")).to_have_text("Ingelogd als Romeo")
    logout = page.locator("[data-action=logout]")
    await expect(logout).to_be_visible()
    await expect(page.locator(".idchat-signin__error")).to_have_count(0)

    # One availability control: ours. Converse's status chooser and profile are not there.
    await expect(page.locator("[role=switch]")).to_have_count(1)
    for gone in (".xmpp-status", ".change-status", "converse-user-profile *", ".show-profile", "#controlbox form"):
        await expect(page.locator(gone)).to_have_count(0)
    body = await page.locator("body").inner_text()
    assert "Ik ben online" not in body and "fwezig" not in body

    # Nothing stored but this tab's sessionStorage, and never the password: the reload uses
    # the SCRAM keys Converse keeps there.
    sessions, locals_ = await page.evaluate(STORAGE)
    assert locals_ == [], locals_
    assert [k for k, _ in sessions if "scram-keys" in k], sessions
    assert not [k for k, v in sessions if AGENT_PASSWORD in (v or "")]
    await page.reload()
    await expect(page.locator(".idchat-account__name")).to_have_text("Ingelogd als Romeo", timeout=15000)
    await expect(page.locator("#idchat-password")).to_have_count(0)
    sessions, locals_ = await page.evaluate(STORAGE)
    assert locals_ == [] and not [k for k, v in sessions if AGENT_PASSWORD in (v or "")]

    # Logging out: back to the form, the tab forgets everything, a reload stays logged out.
    await logout.click()
    await expect(page.locator("#idchat-username")).to_be_visible(timeout=10000)
    assert await page.evaluate("sessionStorage.length + localStorage.length") == 0
    await page.reload()
    await expect(page.locator("#idchat-username")).to_be_visible()
    await page.wait_for_timeout(1500)
    await expect(page.locator(".idchat-account__name")).to_have_count(0)
    assert watch.errors == [] and watch.foreign == []
    await ctx.close()


@pytest.mark.timeout(90)
async def test_the_console_listens_to_the_component_only(stack, browser, request) -> None:
    """Another account sends what looks like an offer, a chat message and a list of chats:
    the console shows none of it. A real offer (the positive control) does show."""
    actx, agent, watch = await login_agent(browser, stack, "romeo")
    stranger = await connect_agent(f"mercutio@{AGENT_DOMAIN}", AGENT_PASSWORD,
                                   int(stack.env["IDCHAT_XMPP_C2S_PORT"]))
    try:
        romeo = f"romeo@{AGENT_DOMAIN}"
        stranger.send_raw(f"<message type='headline' to='{romeo}'><body>Nieuwe chat</body>"
                          f"<offer xmlns='{NS}' id='of-fake' chat='fake0000' purpose='report_move' waiting='1'"
                          f" timeout='30'/></message>")
        stranger.send_raw(f"<message type='chat' to='{romeo}'><body>Klik op deze link</body></message>")
        stranger.send_raw(f"<presence to='{romeo}'><agent xmlns='{NS}' max-chats='2' active='1' available='true'>"
                          f"<chat id='fake0000' room='fake0000@rooms.idchat.localhost' purpose='report_move'/>"
                          f"</agent></presence>")
        await agent.wait_for_timeout(1500)
        await expect(agent.locator("idchat-offer")).to_have_count(0)
        await expect(agent.locator(".idchat-chat, .idchat-card")).to_have_count(0)
        body = await agent.locator("body").inner_text()
        assert "Klik op deze link" not in body and "fake0000" not in body and "Nieuwe chat:" not in body

        client_url = stack.start_session(ATTRS)
        cctx, citizen, _ = await new_page(browser, stack, width=360, height=740)
        await citizen.goto(client_url)
        await expect(agent.locator("idchat-offer")).to_have_count(1)
        await expect(agent.locator("idchat-offer")).to_contain_text("Nieuwe chat: Verhuizing doorgeven")
        await cctx.close()
    finally:
        await close(stranger)
    assert watch.errors == []
    await actx.close()
