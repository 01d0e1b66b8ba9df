"""What must not happen: markup from attribute values, a second browser in the chat,
another agent seeing the card; and the chat's own browser taken for another after the
auth plugin's cross-site redirect."""

from __future__ import annotations

import pytest
from aiohttp import web
from playwright.async_api import expect

from webstack import ATTRS, citizen_in_chat, login_agent, new_page, screenshot, token

pytestmark = pytest.mark.e2e

HOSTILE = {
    "fullname": '<img src=x onerror="window.__pwned=1">',
    "city": '"><script>window.__pwned=2</script>',
    "email": "juliet@capulet.lit",
    "bsn": "999990019",
}


@pytest.mark.timeout(90)
async def test_hostile_attribute_values_are_shown_as_text(stack, browser, request) -> None:
    # bypass_csp: the page's CSP would stop an injected script anyway; here the escaping
    # itself is on trial.
    actx, agent, watch = await login_agent(browser, stack, "romeo", bypass_csp=True)
    cctx, citizen, _ = await citizen_in_chat(browser, stack, agent, HOSTILE)
    card = agent.locator(".idchat-card")
    for name in ("fullname", "city"):
        await expect(card.locator(f"[data-attribute={name}] dd")).to_have_text(HOSTILE[name])
    assert await card.locator("img, script").count() == 0
    await agent.wait_for_timeout(500)  # an onerror would have fired by now
    assert await agent.evaluate("window.__pwned") is None
    assert watch.dialogs == [] and watch.errors == []
    assert not [url for url in watch.requests if url.endswith("/x")]
    watch.assert_stayed_home()
    await screenshot(agent, request, "hostile-card")
    # The control: the same value as markup on this page does fire, and asks for /x.
    await agent.evaluate("""(value) => { const probe = document.createElement('div');
        probe.hidden = true; probe.innerHTML = value; document.body.append(probe); }""", HOSTILE["fullname"])
    await agent.wait_for_function("window.__pwned === 1")
    assert [url for url in watch.requests if url.endswith("/x")]
    await actx.close()
    await cctx.close()


@pytest.mark.timeout(60)
async def test_the_same_link_in_another_browser_does_not_get_in(stack, browser, request) -> None:
    client_url = stack.start_session(HOSTILE)
    first, citizen, _ = await new_page(browser, stack)
    await citizen.goto(client_url)
    await citizen.locator(".idchat-status--queued, .idchat-status--no-agent").wait_for()

    other, intruder, watch = await new_page(browser, stack)
    response = await intruder.goto(client_url)
    assert response is not None and response.status == 403
    await expect(intruder.locator("h1")).to_have_text("Deze chat is al geopend in een andere browser")
    await expect(intruder.locator("[role=alert]")).to_contain_text("Ga verder in de browser waarin u de chat als eerste opende")
    assert await intruder.locator("idchat-citizen, converse-root").count() == 0
    assert await citizen.locator("idchat-citizen, converse-root").count() > 0   # the control
    watch.assert_stayed_home()
    await screenshot(intruder, request, "refused")
    # The first browser still has its chat.
    await expect(citizen.locator(".idchat-status--queued, .idchat-status--no-agent")).to_be_visible()
    await first.close()
    await other.close()


@pytest.mark.timeout(120)
async def test_a_second_agent_never_sees_the_first_chats_card(stack, browser, request) -> None:
    actx, romeo, _ = await login_agent(browser, stack, "romeo", max_chats=1)
    mctx, mercutio, _ = await login_agent(browser, stack, "mercutio", max_chats=1, available=False)
    c1, juliet, _ = await citizen_in_chat(browser, stack, romeo,
                                          {"fullname": "Juliet Capulet", "bsn": "999990019"})
    await expect(romeo.locator(".idchat-card [data-attribute=fullname] dd")).to_have_text("Juliet Capulet")

    # The other agent, logged in at the same time, has no card and no trace of its values.
    await mercutio.locator(".idchat-switch").click()
    await expect(mercutio.locator(".idchat-desk__state.is-available")).to_be_visible()
    await expect(mercutio.locator(".idchat-card")).to_have_count(0)
    for secret in ("Juliet", "999990019"):
        assert secret in await romeo.content()          # the control: a page that has them
        assert secret not in await mercutio.content()

    # The next chat goes to the second agent (the first is at capacity), with only its own card.
    c2, tybalt, _ = await citizen_in_chat(browser, stack, mercutio,
                                          {"fullname": "Tybalt Capulet", "bsn": "999990020"},
                                          agent_name="Mercutio")
    await expect(mercutio.locator(".idchat-card [data-attribute=fullname] dd")).to_have_text("Tybalt Capulet")
    await expect(mercutio.locator(".idchat-card")).to_have_count(1)
    for secret in ("Juliet", "999990019"):
        assert secret not in await mercutio.content()
    await expect(romeo.locator(".idchat-card")).to_have_count(1)
    assert "Tybalt" in await mercutio.content() and "Tybalt" not in await romeo.content()
    await screenshot(mercutio, request, "second-agent")
    for context in (actx, mctx, c1, c2):
        await context.close()


@pytest.mark.timeout(90)
async def test_a_declined_offer_goes_to_the_next_agent(stack, browser, request) -> None:
    actx, romeo, _ = await login_agent(browser, stack, "romeo")
    mctx, mercutio, _ = await login_agent(browser, stack, "mercutio", available=False)
    client_url = stack.start_session({"fullname": "Juliet Capulet"})
    cctx, citizen, _ = await new_page(browser, stack)
    await citizen.goto(client_url)
    # Keyboard only: from the accept button to decline, and press it.
    await romeo.locator("idchat-offer [data-action=accept]").focus()
    await romeo.keyboard.press("Tab")
    await expect(romeo.locator("idchat-offer [data-action=decline]")).to_be_focused()
    await romeo.keyboard.press("Enter")
    await expect(romeo.locator("idchat-offer")).to_have_count(0)
    await expect(romeo.locator(".idchat-offers__none")).to_be_visible()

    await mercutio.locator(".idchat-switch").click()
    await mercutio.locator("idchat-offer [data-action=accept]").click()
    await expect(mercutio.locator(".idchat-card [data-attribute=fullname] dd")).to_have_text("Juliet Capulet")
    await expect(citizen.locator(".idchat-status--assigned")).to_contain_text("Mercutio helpt u nu.")
    await expect(romeo.locator(".idchat-card")).to_have_count(0)
    for context in (actx, mctx, cctx):
        await context.close()


@pytest.mark.timeout(60)
async def test_result_after_a_cross_site_redirect_opens_the_chat(stack, browser, request) -> None:
    """The auth plugin sends the citizen to client_url?result=… from another site. That
    visit binds the browser; the redirect without the token and a reload must still count
    as that browser (a SameSite=Strict cookie would be withheld on both: a 403)."""
    client_url, _ = stack.start_pending_session()
    target = client_url + "?result=" + token(ATTRS)

    async def auth_plugin_page(_: web.Request) -> web.Response:
        return web.Response(text=f'<a id="back" href="{target}">Terug naar de chat</a>',
                            content_type="text/html")
    app = web.Application()
    app.router.add_get("/", auth_plugin_page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    context, citizen, _ = await new_page(browser, stack)
    try:
        # "localhost" is another site than "127.0.0.1", where the chat is served.
        await citizen.goto(f"http://localhost:{port}/")
        async with citizen.expect_navigation(url=client_url) as arrival:
            await citizen.locator("#back").click()
        response = await arrival.value
        assert response is not None and response.status == 200
        await expect(citizen.locator(".idchat-details-status")).to_contain_text("geverifieerd")
        reloaded = await citizen.reload()
        assert reloaded is not None and reloaded.status == 200
        await citizen.locator(".idchat-status--queued, .idchat-status--no-agent").wait_for()
        await screenshot(citizen, request, "after-cross-site-result")
    finally:
        await context.close()
        await runner.cleanup()
