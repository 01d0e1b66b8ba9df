"""An agent hands a chat to a colleague in the console (docs/protocol.md §12): the card
with the citizen's details moves to the colleague's screen, with the handover note and
the conversation so far; the first agent keeps the conversation read-only, without the
card. Each side sees when the other is typing (XEP-0085), and the citizen is told in
plain words who helps them now."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from webstack import ATTRS, assert_accessible, citizen_in_chat, login_agent, say, screenshot

pytestmark = pytest.mark.e2e

QUESTION = "Ik ga verhuizen en heb ook een vraag over een parkeervergunning."
ANSWER = "Voor de vergunning verbind ik u door met een collega."
NOTE = "Verhuizing is doorgegeven; alleen de parkeervergunning nog."


@pytest.mark.timeout(150)
async def test_a_chat_and_its_card_move_to_a_colleague(stack, browser, request) -> None:
    rctx, romeo, romeo_watch = await login_agent(browser, stack, "romeo")
    cctx, citizen, citizen_watch = await citizen_in_chat(browser, stack, romeo, ATTRS)
    await say(citizen, QUESTION)
    await expect(romeo.locator(".chat-msg__text", has_text="parkeervergunning")).to_be_visible()

    # Typing, both ways: the other side is told while a message is being written.
    await citizen.locator("textarea.chat-textarea:visible").press_sequentially("Nog één ding", delay=30)
    await expect(romeo.locator(".chat-content__notifications")).to_contain_text("Inwoner")
    await citizen.locator("textarea.chat-textarea:visible").fill("")
    await romeo.locator("textarea.chat-textarea:visible").press_sequentially("Een ogenblik", delay=30)
    await expect(citizen.locator(".chat-content__notifications")).to_contain_text("Romeo")
    await say(romeo, ANSWER)
    await expect(citizen.locator(".chat-msg__text", has_text="verbind ik u door")).to_be_visible()

    # A colleague comes on duty after the chat was taken (so that it went to Romeo).
    mctx, mercutio, mercutio_watch = await login_agent(browser, stack, "mercutio", max_chats=1)

    card = romeo.locator(".idchat-card")
    await card.locator("[data-action=transfer]").click()
    form = card.locator("form.idchat-transfer")
    colleague = form.locator("select[name=transfer-colleague]")
    await expect(colleague.locator("option")).to_have_text(["Mercutio (1 plek vrij)"])
    await form.locator("textarea[name=transfer-note]").fill(NOTE)
    await screenshot(romeo, request, "agent-transfer-form")
    await assert_accessible(romeo, "the agent console, the transfer form")
    await form.locator("[data-action=transfer-send]").click()
    await expect(card.locator(".idchat-transfer__pending")).to_contain_text("Tot dan blijft de chat bij u")
    # Taken back before Mercutio answers: his offer goes, the chat stays; then sent again.
    await expect(mercutio.locator("idchat-offer")).to_have_count(1)
    await card.locator("[data-action=transfer-withdraw]").click()
    await expect(romeo.locator(".idchat-desk__notice")).to_contain_text("ingetrokken")
    await expect(mercutio.locator("idchat-offer")).to_have_count(0)
    await card.locator("[data-action=transfer]").click()
    await form.locator("textarea[name=transfer-note]").fill(NOTE)
    await form.locator("[data-action=transfer-send]").click()
    await expect(card.locator(".idchat-transfer__pending")).to_contain_text("Tot dan blijft de chat bij u")
    await expect(card.locator(".idchat-card__attributes")).to_contain_text(ATTRS["fullname"])  # still Romeo's

    # Mercutio: an offer saying from whom; on accept the card, the note, the conversation.
    offer = mercutio.locator("idchat-offer")
    await expect(offer).to_contain_text("Overdracht van Romeo")
    await offer.locator("[data-action=accept]").click()
    moved = mercutio.locator(".idchat-card")
    await expect(moved.locator(".idchat-card__attributes")).to_contain_text(ATTRS["fullname"])
    await expect(moved.locator(".idchat-card__handover")).to_contain_text("Overgedragen door: Romeo")
    await expect(moved.locator(".idchat-card__note-text")).to_have_text(NOTE)
    await expect(mercutio.locator(".chat-msg__text", has_text="parkeervergunning")).to_be_visible()
    await expect(mercutio.locator(".chat-msg__text", has_text="verbind ik u door")).to_be_visible()
    await screenshot(mercutio, request, "agent-transfer-received")

    # Romeo: the card and the details are gone; the conversation stays, read-only.
    await expect(romeo.locator(".idchat-card")).to_have_count(0)
    await expect(romeo.locator(".idchat-desk__notice")).to_have_text(
        "Chat \"Verhuizing doorgeven\" is overgedragen aan Mercutio.")
    await expect(romeo.locator(".idchat-chat.is-ended")).to_contain_text("Overgedragen")
    archive = romeo.locator(".idchat-archive")
    await expect(archive).to_contain_text("Deze chat is overgedragen")
    await expect(archive.locator(".idchat-transcript__text")).to_have_text([QUESTION, ANSWER])
    body = await romeo.locator("body").inner_text()
    assert [v for v in ATTRS.values() if v in body] == [] and NOTE not in body, body

    # The citizen: told in plain words, and the conversation so far is still on the page.
    await expect(citizen.locator(".idchat-status")).to_contain_text("Mercutio helpt u nu.")
    await expect(citizen.locator(".idchat-transferred")).to_contain_text("u hoeft niets te herhalen")
    await expect(citizen.locator(".chat-msg__text", has_text="parkeervergunning")).to_be_visible()
    assert NOTE not in await citizen.locator("body").inner_text()
    await say(mercutio, "Goedemiddag, ik help u met de parkeervergunning.")
    await expect(citizen.locator(".chat-msg__text", has_text="Goedemiddag")).to_be_visible()
    await screenshot(citizen, request, "citizen-transferred")
    await assert_accessible(citizen, "the citizen page after a transfer")

    # Mercutio hands it on to another topic's queue: it goes to the front, and Romeo (on
    # duty, with room) is offered it, with Mercutio's note; the citizen is told again.
    card = mercutio.locator(".idchat-card")
    await card.locator("[data-action=transfer]").click()
    form = card.locator("form.idchat-transfer")
    await form.get_by_label("De wachtrij van een onderwerp").check()
    await form.locator("select[name=transfer-topic]").select_option(label="Vergunning aanvragen")
    await form.locator("textarea[name=transfer-note]").fill("Alleen de parkeervergunning nog.")
    await form.locator("[data-action=transfer-send]").click()
    await expect(mercutio.locator(".idchat-card")).to_have_count(0)
    await expect(mercutio.locator(".idchat-desk__notice")).to_have_text(
        "Chat \"Verhuizing doorgeven\" staat nu vooraan in de wachtrij \"Vergunning aanvragen\".")
    offer = romeo.locator("idchat-offer")
    await expect(offer).to_contain_text("Vergunning aanvragen")
    await offer.locator("[data-action=accept]").click()
    back = romeo.locator(".idchat-card")
    await expect(back.locator(".idchat-card__handover")).to_contain_text("Overgedragen door: Mercutio")
    await expect(back.locator(".idchat-card__note-text")).to_have_text("Alleen de parkeervergunning nog.")
    await expect(back.locator(".idchat-card__purpose")).to_contain_text("Vergunning aanvragen")
    await expect(romeo.locator(".idchat-chat")).to_have_count(1)      # the archived copy made way
    await expect(romeo.locator(".chat-msg__text", has_text="Goedemiddag")).to_be_visible()
    await expect(citizen.locator(".idchat-status")).to_contain_text("Romeo helpt u nu.")

    assert romeo_watch.errors == [] and mercutio_watch.errors == [] and citizen_watch.errors == []
    for ctx in (rctx, mctx, cctx):
        await ctx.close()
