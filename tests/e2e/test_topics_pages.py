"""The municipality's topics file in the browser: a closed topic's page says when the chat
opens again (and no agent is offered it); canned replies by keyboard in the agent console
(`/` and a few letters, arrows, Enter, Escape). Prosody only: the servers play no part in
either (the component decides, the pages show it)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from playwright.async_api import expect

from webstack import ATTRS, Stack, assert_accessible, login_agent, new_page, screenshot, spawn, stop
from xmpp_plugin.hours import zone

pytestmark = [pytest.mark.e2e, pytest.mark.server("prosody")]

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def topics_file(tmp_path: Path) -> Path:
    """report_move always open, with canned replies; request_permit open 08:00–17:00 every
    day but closed today (Amsterdam): it opens tomorrow at 08:00."""
    today = datetime.now(zone()).date()
    path = tmp_path / "topics.toml"
    hours = "\n".join(f'{d} = ["08:00-17:00"]' for d in DAYS)
    path.write_text(f"""
[attributes]
fullname = {{ nl = "Naam", en = "Name" }}
city = {{ nl = "Woonplaats", en = "City" }}

[[replies]]
key = "welkom"
nl = "Goedendag, u spreekt met {{agent}}. Waarmee kan ik u helpen?"
en = "Hello, this is {{agent}}. How can I help you?"

[[replies]]
key = "wachten"
nl = "Een moment alstublieft."

[[topics]]
purpose = "report_move"
nl = "Verhuizing doorgeven"
en = "Report a move"

[[topics.replies]]
key = "adres"
nl = "Wat is uw nieuwe adres? Dan kijk ik mee bij {{topic}}."

[[topics]]
purpose = "request_permit"
nl = "Vergunning aanvragen"
en = "Request a permit"
alternative = {{ nl = "Mail ons via vergunningen@gemeente.example.", en = "Mail permits@gemeente.example." }}
[topics.hours]
{hours}
closed = [{today.isoformat()}]
""")
    return path


def restart_with_topics(stack: Stack, path: Path) -> None:
    """Both processes again, reading the topics file (labels on the pages, the rest in the component)."""
    for proc in stack.processes:
        stop(proc)
    stack.env["IDCHAT_TOPICS_FILE"] = str(path)
    stack.processes[:] = [spawn("xmpp_plugin", stack.env, stack.logs["http"]),
                          spawn("component", stack.env, stack.logs["component"])]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(stack.base_url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError("the stack did not come back\n" + stack.log_tail())


@pytest.mark.timeout(150)
async def test_closed_topic_page_and_canned_replies_by_keyboard(stack, browser, request, tmp_path) -> None:
    restart_with_topics(stack, topics_file(tmp_path))
    actx, agent, agent_watch = await login_agent(browser, stack, "romeo", max_chats=2)

    # Closed today: the page says when it opens (tomorrow 08:00) and what else to do.
    cctx, closed, closed_watch = await new_page(browser, stack, width=360, height=740)
    await closed.goto(stack.start_session(ATTRS, purpose="request_permit"))
    status = closed.locator(".idchat-status--closed")
    await expect(status).to_contain_text("De chat over dit onderwerp is nu gesloten.")
    await expect(status.locator(".idchat-opens")).to_have_text("De chat is morgen weer open, vanaf 08:00 uur.")
    await expect(status.locator(".idchat-alternative")).to_have_text("Mail ons via vergunningen@gemeente.example.")
    await expect(closed.locator("[data-action=stop]")).to_have_count(0)    # nothing to stop
    await expect(closed.locator(".idchat-conversation")).to_be_hidden()
    await screenshot(closed, request, "01-closed")
    await assert_accessible(closed, "the citizen page of a closed topic")
    # In English, on a reload: the same, in English words.
    await closed.goto(closed.url.split("?")[0] + "?lang=en")
    await expect(closed.locator(".idchat-status--closed .idchat-opens")).to_have_text(
        "The chat opens again tomorrow at 08:00.")
    await expect(closed.locator(".idchat-status--closed .idchat-alternative")).to_have_text(
        "Mail permits@gemeente.example.")

    # An open topic: its offer is the first the agent sees (none came for the closed one).
    mctx, citizen, _ = await new_page(browser, stack, width=360, height=740)
    await citizen.goto(stack.start_session(ATTRS))
    offers = agent.locator("idchat-offer")
    await expect(offers).to_have_count(1)
    await expect(offers).to_contain_text("Verhuizing doorgeven")
    await agent.locator("idchat-offer [data-action=accept]").click()
    await citizen.locator(".idchat-status--assigned").wait_for()

    # Canned replies: "/we" opens the suggestions (listbox), the focus stays in the box.
    box = agent.locator("textarea.chat-textarea:visible")
    await box.click()
    await box.press_sequentially("/we")
    listbox = agent.locator("[role=listbox].idchat-canned__list")
    await expect(listbox).to_be_visible()
    options = listbox.locator("[role=option]")
    await expect(options).to_have_count(2)                      # welkom nl, then welkom en
    await expect(options.nth(0)).to_contain_text("/welkom")
    await expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    await expect(box).to_have_attribute("aria-activedescendant", await options.nth(0).get_attribute("id"))
    await expect(box).to_be_focused()
    await screenshot(agent, request, "02-suggestions")
    await assert_accessible(agent, "the agent console with the canned-reply suggestions open")
    await box.press("ArrowDown")
    await expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    await expect(box).to_have_attribute("aria-activedescendant", await options.nth(1).get_attribute("id"))
    await box.press("ArrowUp")
    await box.press("Enter")                                    # inserts, does not send
    await expect(listbox).to_have_count(0)
    await expect(box).to_have_value("Goedendag, u spreekt met Romeo. Waarmee kan ik u helpen?")

    # Escape closes the list and leaves the text; Tab inserts the topic's own reply.
    await box.press_sequentially(" /a")
    await expect(options).to_have_count(2)                      # adres (the topic's), wachten
    await expect(options.nth(0)).to_contain_text("/adres")
    await box.press("Escape")
    await expect(listbox).to_have_count(0)
    await expect(box).to_have_value("Goedendag, u spreekt met Romeo. Waarmee kan ik u helpen? /a")
    await box.press_sequentially("d")                           # still dismissed for this /word
    await expect(listbox).to_have_count(0)
    for _ in " /ad":
        await box.press("Backspace")
    await box.press_sequentially(" /ad")
    await expect(options).to_have_count(1)
    await box.press("Tab")
    await expect(box).to_have_value("Goedendag, u spreekt met Romeo. Waarmee kan ik u helpen? "
                                    "Wat is uw nieuwe adres? Dan kijk ik mee bij Verhuizing doorgeven.")
    await expect(box).to_be_focused()
    await box.press("Enter")                                    # now it is sent
    await expect(citizen.locator(".chat-msg__text").last).to_contain_text("Wat is uw nieuwe adres?")

    # The button does the same for a mouse: every reply of the topic, a click inserts.
    await agent.locator(".idchat-canned__button:visible").click()
    await expect(options).to_have_count(4)                      # adres, welkom, wachten, welkom (en)
    await options.filter(has_text="/wachten").click()
    await expect(box).to_have_value("Een moment alstublieft.")
    for watch in (agent_watch, closed_watch):
        assert watch.errors == [] and watch.foreign == []
    for context in (actx, cctx, mctx):
        await context.close()
