"""The citizen's page while Redis is away: it says so in plain words, asks again no sooner
than the service's Retry-After, and goes on by itself once Redis is back."""

from __future__ import annotations

import asyncio
import time

import pytest
from playwright.async_api import expect

from webstack import ATTRS, new_page

pytestmark = pytest.mark.e2e

WAITING = ".idchat-status--queued, .idchat-status--no-agent"


@pytest.mark.timeout(90)
async def test_the_page_follows_retry_after_while_redis_is_frozen(stack, redis_server, browser) -> None:
    stack.stop_component()              # the first claim (with the page's ticket) fails ...
    client_url = stack.start_session(ATTRS)
    cctx, citizen, watch = await new_page(browser, stack, width=360, height=740)
    tickets: list[tuple[float, int, str | None]] = []   # ... so the page asks for new tickets
    citizen.on("response", lambda r: tickets.append(
        (time.monotonic(), r.status, r.headers.get("retry-after")))
        if r.request.method == "POST" and r.url.endswith("/ticket") else None)
    await citizen.goto(client_url)
    status = citizen.locator(".idchat-status")
    await expect(status).to_contain_text("de chat is even niet bereikbaar", timeout=20000)
    redis_server.pause()                # ... while Redis does not answer
    try:
        for _ in range(150):
            if any(code == 503 for _, code, _ in tickets):
                break
            await asyncio.sleep(0.1)
    finally:
        redis_server.resume()
    stack.start_component()
    await expect(citizen.locator(WAITING)).to_be_visible(timeout=40000)

    refused = next(i for i, (_, code, _) in enumerate(tickets) if code == 503)
    assert tickets[refused][2] == "5"
    # The page's own backoff after that attempt is 4 s; the service asked for 5.
    assert tickets[refused + 1][0] - tickets[refused][0] >= 4.9, tickets
    assert tickets[-1][1] == 200
    assert watch.foreign == [] and watch.errors == []
    await cctx.close()
