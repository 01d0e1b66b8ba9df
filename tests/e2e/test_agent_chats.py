"""The agent tells chats apart: the verified name (only on the agent's screen) or a short
reference, the topic, and how many messages are unread; a citizen's reload is told as one."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from webstack import ATTRS, citizen_in_chat, login_agent, say, screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(120)
async def test_two_chats_by_name_or_reference_with_unread_counts(stack, browser, request) -> None:
    actx, agent, watch = await login_agent(browser, stack, "romeo", max_chats=2)
    c1, juliet, _ = await citizen_in_chat(browser, stack, agent, ATTRS)
    c2, unknown, _ = await citizen_in_chat(browser, stack, agent, None)  # not verified: no name shown
    chats = agent.locator(".idchat-chat")
    await expect(chats).to_have_count(2)
    labels = await agent.locator(".idchat-chat__label").all_inner_texts()
    assert labels[0] == "Juliet Capulet", labels
    assert labels[1].startswith("Chat ") and len(labels[1]) == len("Chat ") + 6, labels
    reference = labels[1]
    # The chat on screen is the one accepted last; its card carries the same label.
    await expect(agent.locator(".idchat-chat[aria-current=true] .idchat-chat__label")).to_have_text(reference)
    await expect(agent.locator(".idchat-card__title:visible")).to_contain_text(reference)

    # Juliet writes while the other chat is on screen: her chat counts what is unread.
    await say(juliet, "Bent u daar?")
    await say(juliet, "Ik wacht even.")
    first = chats.filter(has_text="Juliet Capulet")
    await expect(first.locator(".idchat-chat__badge--unread")).to_have_text("2 nieuwe berichten")
    await screenshot(agent, request, "unread")
    # Opening it shows the messages and clears the count.
    await first.click()
    await expect(agent.locator(".chat-msg__text:visible", has_text="Ik wacht even.")).to_be_visible()
    await expect(first.locator(".idchat-chat__badge--unread")).to_have_count(0)
    await expect(first).to_have_attribute("aria-current", "true")
    # The unverified citizen's name never appears; the verified one only on the agent's side.
    assert "Juliet" not in await unknown.locator("body").inner_text()

    # A reload of the citizen's page (the server moves the membership: status 321) is told
    # as such, not as a removal.
    await juliet.reload()
    await expect(juliet.locator(".idchat-status--assigned")).to_be_visible()
    await expect(agent.locator(".chat-info:visible", has_text="De inwoner heeft de pagina opnieuw geladen")).to_be_visible()
    assert "verwijderd" not in await agent.locator(".chat-content:visible").inner_text()
    assert watch.errors == []
    for context in (actx, c1, c2):
        await context.close()
