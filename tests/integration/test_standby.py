"""Prosody accepts one connection per component domain: a hot standby instance waits
for the connection lease in Redis, takes over when the active instance dies, and the
open chats go on."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

import pytest
import redis.asyncio as aioredis

from actors import Stack, start_server
from component.gateway import Gateway
from xmpp_plugin.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def xmpp_server() -> Iterator[Any]:
    server = start_server("prosody")
    yield server
    server.stop()


@pytest.fixture
def stack_settings(make_settings: Any, xmpp_server: Any) -> Settings:
    return make_settings(**{k: v for k, v in xmpp_server.env.items() if k.startswith("IDCHAT_XMPP_")},
                         IDCHAT_XMPP_SERVER="prosody", IDCHAT_XMPP_LEASE_SECONDS="2")


async def test_standby_takes_over_and_open_chats_continue(stack: Stack, redis_server: Any) -> None:
    client = aioredis.from_url(redis_server.url, socket_timeout=10)
    standby = Gateway(stack.settings, client)
    standby.start()
    try:
        citizen = await stack.citizen()
        claimed = await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
        agent = await stack.agent("romeo")
        await agent.available()
        room = await agent.accept(await agent.wait_for("idchat_offer"))
        await citizen.wait_for("idchat_status", lambda s: s["state"] == "assigned")
        assert stack.gateway.online.is_set() and not standby.online.is_set()  # one connection

        active = stack.gateway                                # dies without a goodbye
        active.stopping = True
        for task in active._tasks:
            task.cancel()
        active.abort()
        await asyncio.wait_for(standby.online.wait(), 10)     # lease expires (2 s), takes over

        await agent.say(room, "Bent u er nog?")
        assert (await citizen.wait_for_room("Bent u er nog?"))["from"].resource == "Romeo"
        again = (await agent.iq("idchat_attributes", ptype="get", chat=claimed["chat"]))
        assert again["idchat_attributes"]["chat"] == claimed["chat"]   # served by the standby
        await agent.iq("idchat_end", chat=claimed["chat"])
        ended = await citizen.wait_for("idchat_status", lambda s: s["state"] == "ended")
        assert ended["by"] == "agent"
    finally:
        await standby.stop()
        await client.aclose()
