"""Keyboard and zoom (WCAG 2.1.1, 2.1.2, 2.4.7, 1.4.4, 1.4.10, 1.4.12): Tab leaves every
field, the focus can be seen, and at 320 CSS px, at 200 % text and with wider text
spacing nothing scrolls sideways, nothing is cut off and no word breaks in the middle."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from pagecheck import TEXT_SPACING, layout_problems, line_breaks, set_text_size, tab_walk
from webstack import ATTRS, citizen_in_chat, login_agent, say, shot_path

pytestmark = [pytest.mark.e2e, pytest.mark.server("prosody")]  # layout: the same on both servers

LONG = {**ATTRS, "email": "juliet.capulet.de.verona@gemeente-voorbeeldstad.example.nl"}
MESSAGE = ("Ik ga verhuizen naar de Kapelstraat. Mijn nieuwe e-mailadres is "
           "juliet.capulet.de.verona@gemeente-voorbeeldstad.example.nl, daar ben ik bereikbaar.")
AGENT_MESSAGE = "Dank u wel. Ik verwerk de verhuizing en stuur een bevestiging naar dat adres."


async def unstyle(page: Page) -> None:
    await page.evaluate("document.querySelectorAll('style[data-test]').forEach((s) => s.remove())")


async def add_test_style(page: Page, css: str) -> None:
    await page.evaluate("""(css) => { const s = document.createElement('style'); s.dataset.test = '';
                                      s.textContent = css; document.head.append(s); }""", css)
    await page.wait_for_timeout(150)


@pytest.mark.timeout(150)
async def test_the_citizen_page_by_keyboard_and_at_any_size(stack, browser, request) -> None:
    actx, agent, _ = await login_agent(browser, stack, "romeo")
    cctx, citizen, watch = await citizen_in_chat(browser, stack, agent, LONG)
    await say(citizen, MESSAGE)
    await say(agent, AGENT_MESSAGE)
    await expect(citizen.locator(".chat-msg__text", has_text="bevestiging")).to_be_visible()

    # The positive control: the checks see a clipped box, sideways scrolling and a split word.
    await citizen.evaluate("""() => {
        const d = document.createElement('div'); d.id = 'control';
        d.innerHTML = '<p style="width: 900px">breed</p><p style="width: 3em; overflow: hidden; white-space: nowrap">afgesneden tekst</p><p style="width: 2em; overflow-wrap: anywhere">onderbreking</p>';
        document.querySelector('main').append(d); }""")
    control = "\n".join(await layout_problems(citizen))
    assert "scrolls sideways" in control and "cuts off" in control and '"onderbreking" breaks' in control, control
    await citizen.evaluate("document.getElementById('control').remove()")

    # Tab order: skip link, languages, the messages (to scroll them), message box, send, stop. Tab leaves the message box
    # (no trap), and there is no tab stop per message.
    await citizen.locator("textarea.chat-textarea").focus()
    after_box = await tab_walk(citizen, 2)
    assert [s["cls"].split()[-1] if s["cls"] else s["tag"] for s in after_box] == ["idchat-send", "idchat-stop"], after_box
    await citizen.locator("a.skip-link").focus()
    await citizen.keyboard.press("Shift+Tab")
    walk = await tab_walk(citizen, 7)
    labels = [s["label"] for s in walk]
    assert labels == ["Naar de inhoud", "Nederlands", "English", "Berichten in dit gesprek", "Typ hier uw bericht",
                      "Verstuur", "Chat stoppen en uitloggen"], walk
    assert walk[4]["cls"].startswith("chat-textarea"), walk
    assert not [s for s in walk if s["problems"]], [(s["label"], s["problems"]) for s in walk if s["problems"]]
    assert await citizen.locator("converse-message-actions button, .chat-msg__actions").count() == 0

    # The message box can be seen without the focus: a border of at least 1 px.
    await citizen.locator("[data-action=stop]").focus()
    border = await citizen.locator("textarea.chat-textarea").evaluate(
        "(el) => { const cs = getComputedStyle(el); return [parseFloat(cs.borderTopWidth), cs.borderTopStyle, cs.borderTopColor]; }")
    assert border[0] >= 1 and border[1] == "solid" and border[2] != "rgba(0, 0, 0, 0)", border

    for width, height, text, css, step in ((320, 640, 100, "", "320px"), (360, 740, 200, "", "phone-200pct-text"),
                                           (320, 640, 200, "", "320px-200pct-text"),
                                           (320, 640, 100, TEXT_SPACING, "320px-text-spacing")):
        await citizen.set_viewport_size({"width": width, "height": height})
        await set_text_size(citizen, text)
        await unstyle(citizen)
        if css:
            await add_test_style(citizen, css)
        problems = await layout_problems(citizen)
        assert problems == [], f"{step}:\n" + "\n".join(problems)
        # The send button and the end of the last message are on screen when scrolled to.
        for locator in (citizen.locator(".idchat-send"), citizen.locator(".chat-msg__text").last,
                        citizen.locator(".lang-switch a[lang=en]")):
            await locator.scroll_into_view_if_needed()
            box = await locator.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (step, box)
        # The window as the reader sees it (a full-page shot would reset the text size).
        await citizen.screenshot(path=shot_path(request, step))
    assert watch.errors == []
    await actx.close()
    await cctx.close()


@pytest.mark.timeout(150)
async def test_the_agent_console_by_keyboard_and_with_large_text(stack, browser, request) -> None:
    actx, agent, watch = await login_agent(browser, stack, "romeo")
    cctx, citizen, _ = await citizen_in_chat(browser, stack, agent, LONG)
    await say(citizen, MESSAGE)
    await expect(agent.locator(".chat-msg__text", has_text="Kapelstraat")).to_be_visible()

    # Tab leaves the message box: to the send button, then out of the chat.
    box = agent.locator("textarea.chat-textarea")
    await box.focus()
    await box.type("Een moment")
    walk = await tab_walk(agent, 2)
    assert walk[0]["cls"].endswith("idchat-send") and not walk[1]["cls"].startswith("chat-textarea"), walk
    # From the top of the page every control in order, with a visible focus ring.
    await agent.locator("a.skip-link").focus()
    await agent.keyboard.press("Shift+Tab")
    walk = await tab_walk(agent, 16)
    actions = [s["action"] or s["cls"].split()[-1] if s["cls"] or s["action"] else s["tag"] for s in walk]
    for expected in ("logout", "availability", "max-chats", "end", "transfer", "idchat-send"):
        assert expected in actions, walk
    assert actions.index("end") < actions.index("idchat-send"), walk
    assert not [s for s in walk if s["problems"]], [(s["label"], s["problems"]) for s in walk if s["problems"]]
    assert await agent.locator("converse-message-actions button, .chat-msg__actions").count() == 0

    # The card's e-mail address wraps at its dots and '@', not inside a part.
    await agent.set_viewport_size({"width": 1024, "height": 768})
    for text, css, step in ((200, "", "200pct-text"), (100, TEXT_SPACING, "text-spacing")):
        await set_text_size(agent, text)
        await unstyle(agent)
        if css:
            await add_test_style(agent, css)
        problems = await layout_problems(agent, ".idchat-agent__desk, .idchat-card, .chat-content, .idchat-message-form")
        assert problems == [], f"{step}:\n" + "\n".join(problems)
        for locator in (agent.locator(".idchat-send"), agent.locator("[data-action=end]"),
                        agent.locator("[data-action=logout]")):
            await locator.scroll_into_view_if_needed()
            found = await locator.bounding_box()
            assert found and found["x"] >= 0 and found["x"] + found["width"] <= 1024, (step, found)
        await agent.screenshot(path=shot_path(request, step))

    # A long e-mail address on the card wraps only after its '@', dots and hyphens.
    await unstyle(agent)
    await agent.set_viewport_size({"width": 640, "height": 800})
    await set_text_size(agent, 200)
    breaks = await line_breaks(agent, ".idchat-card [data-attribute=email] dd")
    assert breaks, "the address fits on one line: the check saw nothing"
    assert all(pair[0] in "@.-" for pair in breaks), breaks
    assert watch.errors == []
    await actx.close()
    await cctx.close()
