"""The real stack for integration tests: Prosody from prosody/ on free ports, a private
Redis (tests/conftest.py), and the component in-process, one per test."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from actors import Stack, start_server  # noqa: E402
from prosody_server import ProsodyServer  # noqa: E402

from component import audit  # noqa: E402
from component.gateway import Gateway  # noqa: E402
from xmpp_plugin.settings import Settings  # noqa: E402
from xmpp_plugin.store import SessionStore  # noqa: E402


@pytest.fixture(scope="session", params=["prosody", "ejabberd"])
def xmpp_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The whole integration suite runs against both servers."""
    server = start_server(request.param)
    yield server
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture
def stack_settings(make_settings: Any, xmpp_server: Any) -> Settings:
    """Short timers so routing tests run in seconds."""
    server = "prosody" if isinstance(xmpp_server, ProsodyServer) else "ejabberd"
    return make_settings(**{k: v for k, v in xmpp_server.env.items() if k.startswith("IDCHAT_XMPP_")},
                         IDCHAT_XMPP_SERVER=server,
                         IDCHAT_ROUTING_OFFER_TIMEOUT_SECONDS="2",
                         IDCHAT_ROUTING_NO_AGENT_TIMEOUT_SECONDS="2",
                         IDCHAT_ROUTING_CITIZEN_GONE_SECONDS="2",
                         IDCHAT_ROUTING_AGENT_GRACE_SECONDS="1",
                         IDCHAT_ROUTING_ORPHAN_CHECK_SECONDS="2",
                         IDCHAT_STORE_TICKET_TTL_SECONDS="3")


@pytest.fixture
async def stack(stack_settings: Settings, redis_server: Any, xmpp_server: Any,
                tmp_path: Path) -> AsyncIterator[Stack]:
    audit_file = tmp_path / "audit.log"
    audit.configure(str(audit_file))
    client = aioredis.from_url(redis_server.url, socket_timeout=10)
    gateway = Gateway(stack_settings, client)
    gateway.start()
    await asyncio.wait_for(gateway.online.wait(), 10)
    st = Stack(stack_settings, SessionStore.from_settings(client, stack_settings), gateway,
               xmpp_server, audit_file)
    try:
        yield st
    finally:
        await st.close()
        await gateway.stop()
        closing = asyncio.ensure_future(client.aclose())
        if not (await asyncio.wait({closing}, timeout=5))[0]:
            closing.cancel()
            raise AssertionError("the Redis client did not close within 5 s")
