"""A supervisor's team overview in the console (docs/protocol.md §9), walked through once:
a team lead signs in, opens the overview, and sees — pushed, without a reload — a citizen
waiting with nobody on duty, an agent coming on duty and taking the chat, a citizen who
gives up, the chat ending and today's figures; the same view in English after the
language switch; axe-clean in both. No value of the citizen reaches the supervisor's page
or connection (positive control: the agent's), the overview offers no way into a chat,
and an agent who is not a supervisor is refused by the component and gets no view.

The XMPP side is tested on both servers in tests/integration/test_supervision.py; the page
cannot differ between them, so this runs on Prosody.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from pagecheck import layout_problems, leftovers, set_text_size, shown_strings
from webstack import (
    AGENT_DOMAIN,
    ATTRS,
    Stack,
    Watch,
    agent_credentials,
    assert_accessible,
    new_page,
    screenshot,
)

SUPERVISOR = "mercutio"
SECRETS = [*ATTRS.values(), "Capulet"]  # what the citizen's token carries
SECONDS = re.compile(r"^\d+ s$")
AGO = re.compile(r"^\d+ s geleden$")


pytestmark = [pytest.mark.e2e, pytest.mark.server("prosody"),
              pytest.mark.stack_env(IDCHAT_ROUTING_SUPERVISORS=f"{SUPERVISOR}@{AGENT_DOMAIN}",
                                    IDCHAT_ROUTING_SUPERVISOR_PUSH_SECONDS="1",
                                    IDCHAT_ROUTING_SERVICE_LEVEL_SECONDS="60")]


async def console(browser: Browser, stack: Stack, name: str, *, available: bool,
                  max_chats: int = 2) -> tuple[BrowserContext, Page, Watch, list[str]]:
    """An account signed in to the console, with every XMPP frame its page received."""
    context, page, watch = await new_page(browser, stack)
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(
        f if isinstance(f, str) else f.decode(errors="replace"))))
    await page.goto(stack.base_url + "/agent")
    await agent_credentials(page, name)
    await page.locator("idchat-agent-desk [data-action=availability]").wait_for(state="attached")
    await page.select_option("#idchat-max-chats", str(max_chats))
    if available:
        await page.locator(".idchat-switch").click()
        await page.locator(".idchat-desk__state.is-available").wait_for()
    return context, page, watch, frames


def overview_answers(frames: list[str]) -> list[str]:
    return [f for f in frames if f.startswith("<iq") and "type='result'" in f.replace('"', "'")
            and "<overview" in f]


def refusals(frames: list[str]) -> list[str]:
    return [f for f in frames if f.startswith("<iq") and "type='error'" in f.replace('"', "'")
            and "<forbidden" in f]


@pytest.mark.timeout(240)
async def test_a_supervisor_follows_the_contact_centre_live(stack, browser, request) -> None:
    sctx, lead, lead_watch, lead_frames = await console(browser, stack, SUPERVISOR, available=False)
    view = lead.locator("idchat-supervisor-overview")

    # The component said yes: the desk offers the overview; opening it moves the focus there.
    await lead.locator("[data-action=view-overview]").click()
    await expect(lead.locator("#idchat-overview-title")).to_be_focused()
    await expect(lead.locator("#idchat-overview-title")).to_have_text("Teamoverzicht")
    await expect(lead.locator("[data-action=view-overview]")).to_have_attribute("aria-pressed", "true")
    assert overview_answers(lead_frames), "the component never answered the supervisor's <overview/>"
    assert refusals(lead_frames) == []

    # An agent signs in, not on duty: the overview shows them without a reload.
    actx, romeo, romeo_watch, romeo_frames = await console(browser, stack, "romeo", available=False)
    row = view.locator(f"[data-table=agents] tr[data-agent='romeo@{AGENT_DOMAIN}']")
    await expect(row.locator("th")).to_have_text("Romeo")
    await expect(row.locator("[data-figure=availability] .idchat-table__value")).to_have_text("Niet beschikbaar")
    await expect(row.locator("[data-figure=chats] .idchat-table__value")).to_have_text("0 van 2")
    await expect(row.locator("[data-figure=idle] .idchat-table__value")).to_have_text("nog geen")
    pages_loaded = len([u for u in lead_watch.requests if u.rstrip("/").endswith("/agent")])

    # A citizen waits while nobody is on duty: the queue, the longest wait, the warning.
    cctx, citizen, _ = await new_page(browser, stack, width=360, height=740)
    await citizen.goto(stack.start_session(ATTRS))
    queue = view.locator("[data-table=queues] tr[data-purpose=report_move]")
    await expect(queue.locator("th")).to_have_text("Verhuizing doorgeven")
    await expect(queue.locator("[data-figure=waiting] .idchat-table__value")).to_have_text("1")
    await expect(queue.locator("[data-figure=longest] .idchat-table__value")).to_have_text(SECONDS)
    await expect(queue.locator("[data-figure=longest] .idchat-table__value")).not_to_have_text("0 s", timeout=10000)
    summary = view.locator("[role=status]")
    await expect(summary).to_contain_text("Wachtend: 1. Medewerkers beschikbaar: 0.")
    await expect(summary).to_contain_text("geen medewerker beschikbaar")
    await expect(view.locator("[data-figure=answered] dd")).to_have_text("0")
    await expect(view.locator("[data-figure=service-level] dd")).to_have_text("nog geen")
    await screenshot(lead, request, "waiting")
    await assert_accessible(lead, "the team overview (nl), a citizen waiting")

    # A second citizen gives up while waiting: abandoned.
    qctx, quitter, _ = await new_page(browser, stack, width=360, height=740)
    await quitter.goto(stack.start_session(None))
    await expect(queue.locator("[data-figure=waiting] .idchat-table__value")).to_have_text("2")
    await quitter.locator("[data-action=stop]").click()
    await quitter.locator("[data-action=stop-yes]").click()
    await expect(view.locator("[data-figure=abandoned] dd")).to_have_text("1")
    await expect(queue.locator("[data-figure=waiting] .idchat-table__value")).to_have_text("1")
    await qctx.close()

    # Romeo comes on duty and takes the chat: their load, the queue and today change live.
    await romeo.locator(".idchat-switch").click()
    await expect(row.locator("[data-figure=availability] .idchat-table__value")).to_have_text("Beschikbaar")
    await romeo.locator("idchat-offer [data-action=accept]").click()
    await romeo.locator(".idchat-card .idchat-badge").wait_for()
    await expect(row.locator("[data-figure=chats] .idchat-table__value")).to_have_text("1 van 2")
    await expect(row.locator("[data-figure=idle] .idchat-table__value")).to_have_text(AGO)
    await expect(queue.locator("[data-figure=waiting] .idchat-table__value")).to_have_text("0")
    await expect(summary).to_contain_text("Wachtend: 0. Medewerkers beschikbaar: 1.")
    await expect(summary).not_to_contain_text("geen medewerker beschikbaar")
    await expect(view.locator("[data-figure=answered] dd")).to_have_text("1")
    await expect(view.locator("[data-figure=median-wait] dd")).to_have_text(SECONDS)
    await expect(view.locator("[data-figure=service-level] dt")).to_contain_text("binnen 60 s")
    await expect(view.locator("[data-figure=service-level] dd")).to_have_text("100%")

    # While the chat is open, nothing of the citizen reached the supervisor: not on the page, not on the wire. The
    # same scans see the name on the agent's page and connection (positive control).
    shown = await shown_strings(lead, everything=True)
    assert [s for s in shown if any(v in s for v in SECRETS)] == []
    assert [f for f in lead_frames if any(v in f for v in SECRETS)] == []
    assert [f for f in romeo_frames if "Juliet Capulet" in f], "the frame scan sees no attribute at all"
    assert [s for s in await shown_strings(romeo) if "Juliet Capulet" in s], "the page scan sees no name"
    # No way into a chat from the overview: nothing in it to press, no card, no chat listed.
    assert await view.locator("button, a, input, select, textarea, [tabindex='0']").count() == 0
    assert await lead.locator(".idchat-card, idchat-offer, [data-chat]").count() == 0

    # The chat ends: Romeo's load goes back, today's figures stay.
    await romeo.locator(".idchat-card [data-action=end]").click()
    await romeo.locator(".idchat-card [data-action=end-yes]").click()
    await expect(row.locator("[data-figure=chats] .idchat-table__value")).to_have_text("0 van 2")
    await expect(view.locator("[data-figure=answered] dd")).to_have_text("1")
    await expect(view.locator("[data-figure=abandoned] dd")).to_have_text("1")
    # All of it pushed: the supervisor's page was never loaded again.
    assert len([u for u in lead_watch.requests if u.rstrip("/").endswith("/agent")]) == pages_loaded == 1


    # The language switch: the same overview in English after the page comes back signed in.
    await lead.locator(".lang-switch a[lang=en]").click()
    await expect(lead.locator("#idchat-overview-title")).to_have_text("Team overview", timeout=20000)
    await expect(lead.locator("[data-action=view-overview]")).to_have_text("Team overview")
    await expect(queue.locator("th")).to_have_text("Report a move")
    await expect(row.locator("[data-figure=availability] .idchat-table__value")).to_have_text("Available")
    await expect(row.locator("[data-figure=chats] .idchat-table__value")).to_have_text("0 of 2")
    await expect(view.locator("[data-figure=answered] dt")).to_have_text("Answered")
    await expect(view.locator("[data-figure=answered] dd")).to_have_text("1")
    await expect(view.locator("[data-figure=service-level] dt")).to_contain_text("within 60 s")
    dutch = leftovers(await shown_strings(lead), [r"\bWachtend\b", r"\bVandaag\b", r"\bMedewerker",
                                                   r"\bgeleden\b", r"\bBeschikbaar\b", r"Teamoverzicht"])
    assert dutch == [], dutch
    await screenshot(lead, request, "english")
    await assert_accessible(lead, "the team overview (en)")
    # Reflow: on a phone-sized window and at 200 % text nothing sticks out or is cut off.
    await lead.set_viewport_size({"width": 360, "height": 740})
    await set_text_size(lead, 200)
    problems = await layout_problems(lead, "idchat-supervisor-overview, .idchat-views")
    assert problems == [], problems
    await screenshot(lead, request, "english-360px-200pct")
    await set_text_size(lead, 100)
    assert lead_watch.errors == [] and lead_watch.dialogs == []
    lead_watch.assert_stayed_home()

    # Romeo is no supervisor: the component refused him, and his console offers no view.
    assert refusals(romeo_frames), "the component never refused the agent's <overview/>"
    assert overview_answers(romeo_frames) == []
    await expect(romeo.locator("[data-action=view-overview]")).to_have_count(0)
    await expect(romeo.locator("idchat-supervisor-overview")).to_be_empty()
    assert romeo_watch.errors == []
    for ctx in (cctx, actx, sctx):
        await ctx.close()
