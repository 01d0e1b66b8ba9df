"""Restarts and privacy on disk: an XMPP server restart mid-chat strands nobody, and after a
chat and a shutdown nothing of it is on disk. Session feedback reaches ID Contact."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
from aiohttp import web

from actors import Stack, start_server
from disk_scan import assert_nothing_on_disk, plant_account, plant_in_roster
from tokenlab import ATTRS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@pytest.fixture(scope="module", params=["prosody", "ejabberd"])
def xmpp_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A server of this module's own: these tests restart and stop it."""
    server = start_server(request.param)
    yield server
    server.stop()


async def test_server_restart_mid_chat(stack: Stack) -> None:
    sid = await stack.session()
    gone_sid = await stack.session()
    citizen, leaver = await stack.citizen(), await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    await leaver.claim_and_join(await stack.store.issue_ticket(gone_sid))
    agent = await stack.agent("romeo")
    await agent.available(max_chats=2)
    await agent.accept(await agent.wait_for("idchat_offer", lambda o: o["chat"] == claimed["chat"]))
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "assigned")

    stack.server.restart()
    await asyncio.sleep(0.5)
    await asyncio.wait_for(stack.gateway.online.wait(), 20)     # the component reconnected

    back = await stack.citizen()                                 # the page reconnects: new guest
    again = await back.claim_and_join(await stack.store.issue_ticket(sid))
    assert again["chat"] == claimed["chat"] and again["state"] == "queued"
    told = await back.wait_for("idchat_status", lambda s: s["interrupted"] == "true")
    assert told["state"] == "queued"                             # the citizen is told
    agent2 = await stack.agent("romeo")
    await agent2.available()
    await agent2.accept(await agent2.wait_for("idchat_offer", lambda o: o["chat"] == claimed["chat"]))
    await back.wait_for("idchat_status", lambda s: s["state"] == "assigned")

    # The citizen who never came back: ended and purged after citizen_gone_seconds (2 s).
    for _ in range(60):
        if not await stack.store.redis.exists(stack.store.keys.session(gone_sid)):
            break
        await asyncio.sleep(0.2)
    assert not await stack.store.redis.exists(stack.store.keys.session(gone_sid))
    assert await stack.store.redis.exists(stack.store.keys.session(sid))


async def test_nothing_of_a_chat_is_on_disk_after_shutdown(stack: Stack) -> None:
    sid = await stack.session()
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    agent = await stack.agent("romeo")
    await agent.available()
    room = await agent.accept(await agent.wait_for("idchat_offer"))
    await agent.wait_for("idchat_attributes")
    await citizen.say(room, "geheim-bericht-van-de-inwoner")
    await agent.wait_for_room("geheim-bericht-van-de-inwoner")
    # Positive controls: a roster item the agent saves and an account the server's own tool
    # registers are on disk after the stop; a scan that misses them proves nothing.
    planted = [await plant_in_roster(agent.xmpp),
               plant_account(stack.server, stack.settings.xmpp.agent_domain)]
    await stack.close()
    stack.server.stop()
    try:
        assert_nothing_on_disk(Path(stack.server.workdir),
                               [claimed["chat"], "geheim-bericht-van-de-inwoner", *ATTRS.values()],
                               planted)
    finally:
        stack.server.start()


@pytest.fixture
async def core() -> AsyncIterator[tuple[str, list[str]]]:
    """A stand-in for the ID Contact core's session_url endpoint."""
    calls: list[str] = []

    async def session(request: web.Request) -> web.Response:
        calls.append(request.query.get("type", ""))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/session/{id}", session)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/session/42", calls
    await runner.cleanup()


async def test_session_feedback_user_active_and_logout(stack: Stack, core: Any) -> None:
    url, calls = core
    sid = await stack.session(session_url=url)
    citizen = await stack.citizen()
    await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    for text in ("hallo", "is daar iemand?"):
        await citizen.say(citizen.room, text)
    for _ in range(50):
        if calls:
            break
        await asyncio.sleep(0.1)
    assert calls == ["user_active"]                              # throttled: once a minute
    assert await stack.store.redis.exists(stack.store.keys.session(sid))   # the control
    await citizen.iq("idchat_end")
    for _ in range(50):
        if len(calls) == 2:
            break
        await asyncio.sleep(0.1)
    assert calls == ["user_active", "logout"]
    assert not await stack.store.redis.exists(stack.store.keys.session(sid))
