"""The real stack for integration tests: Prosody from prosody/ on free ports, a private
Redis (tests/conftest.py), and the component in-process, one per test. ``ha_stack`` is
the same stack on Redis high availability: a primary, a replica and three Sentinels
(``redis_ha``), found through Sentinel as in production, each process as its ACL user."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from actors import HA_ADMIN, HA_PREFIX, Stack, start_server  # noqa: E402
from component import audit  # noqa: E402
from component.gateway import Gateway  # noqa: E402
from prosody_server import ProsodyServer  # noqa: E402
from redis_server import COMPONENT_USER, HTTP_USER, REPLICA_USER, SENTINEL_USER, RedisHA  # noqa: E402
from xmpp_plugin.settings import Settings  # noqa: E402
from xmpp_plugin.store import SessionStore, connect  # noqa: E402


@pytest.fixture(scope="session", params=["prosody", "ejabberd"])
def xmpp_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The whole integration suite runs against both servers."""
    server = start_server(request.param)
    yield server
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture
def stack_env(xmpp_server: Any) -> dict[str, str]:
    """Short timers so routing tests run in seconds."""
    server = "prosody" if isinstance(xmpp_server, ProsodyServer) else "ejabberd"
    return {**{k: v for k, v in xmpp_server.env.items() if k.startswith("IDCHAT_XMPP_")},
            "IDCHAT_XMPP_SERVER": server,
            "IDCHAT_ROUTING_OFFER_TIMEOUT_SECONDS": "2",
            "IDCHAT_ROUTING_NO_AGENT_TIMEOUT_SECONDS": "2",
            "IDCHAT_ROUTING_CITIZEN_GONE_SECONDS": "2",
            "IDCHAT_ROUTING_AGENT_GRACE_SECONDS": "1",
            "IDCHAT_ROUTING_ORPHAN_CHECK_SECONDS": "2",
            "IDCHAT_STORE_TICKET_TTL_SECONDS": "3"}


@pytest.fixture
def stack_settings(make_settings: Any, stack_env: dict[str, str]) -> Settings:
    return make_settings(**stack_env)  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def running_stack(settings: Settings, client: aioredis.Redis, xmpp_server: Any,
                        tmp_path: Path) -> AsyncIterator[Stack]:
    audit_file = tmp_path / "audit.log"
    audit.configure(str(audit_file))
    gateway = Gateway(settings, client)
    gateway.start()
    await asyncio.wait_for(gateway.online.wait(), 10)
    st = Stack(settings, SessionStore.from_settings(client, settings), gateway,
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


@pytest.fixture
async def stack(stack_settings: Settings, redis_server: Any, xmpp_server: Any,
                tmp_path: Path) -> AsyncIterator[Stack]:
    client = aioredis.from_url(redis_server.url, socket_timeout=10)
    async with running_stack(stack_settings, client, xmpp_server, tmp_path) as st:
        yield st


@pytest.fixture
async def connected_stack(stack_settings: Settings, xmpp_server: Any,
                          tmp_path: Path) -> AsyncIterator[Stack]:
    """The stack with the component's Redis client made as in production (store.connect):
    every command waits at most redis.timeout_seconds."""
    async with running_stack(stack_settings, connect(stack_settings), xmpp_server, tmp_path) as st:
        yield st


@pytest.fixture
def redis_ha(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisHA]:
    """A primary, a replica and three Sentinels, every one with its ACL; the primary is
    failed over one second after it stops answering. One set per test: a test may kill."""
    passwords = {user: secrets.token_urlsafe(18)
                 for user in (HTTP_USER, COMPONENT_USER, REPLICA_USER, SENTINEL_USER, HA_ADMIN)}
    ha = RedisHA(tmp_path_factory.mktemp("redis-ha"), passwords, prefix=HA_PREFIX,
                 down_after_ms=1000, failover_timeout_ms=4000,
                 extra_acl=f"user {HA_ADMIN} on >{passwords[HA_ADMIN]} ~* &* +@all\n").start()
    yield ha
    ha.stop()


@pytest.fixture
def ha_settings(make_settings: Any, stack_env: dict[str, str], redis_ha: RedisHA) -> Any:
    """Settings of one process role on ``redis_ha``: through the Sentinels, as that role's
    ACL user; both roles share the prefix and the attributes key."""
    shared = {**stack_env, "IDCHAT_REDIS_SENTINELS": ",".join(redis_ha.addresses),
              "IDCHAT_REDIS_SENTINEL_SERVICE": redis_ha.service,
              "IDCHAT_REDIS_KEY_PREFIX": HA_PREFIX, "IDCHAT_REDIS_URL": "redis://127.0.0.1:1/0",
              "IDCHAT_REDIS_TIMEOUT_SECONDS": "1",
              "IDCHAT_STORE_ATTRIBUTES_KEY": make_settings().store.attributes_key}

    def build(user: str = COMPONENT_USER) -> Settings:
        return make_settings(**shared, IDCHAT_REDIS_USERNAME=user,  # type: ignore[no-any-return]
                             IDCHAT_REDIS_PASSWORD=redis_ha.passwords[user])
    return build


@pytest.fixture
async def ha_stack(ha_settings: Any, xmpp_server: Any, tmp_path: Path) -> AsyncIterator[Stack]:
    """The component (and the test's store) on ``redis_ha``, as the component's user."""
    settings = ha_settings(COMPONENT_USER)
    async with running_stack(settings, connect(settings), xmpp_server, tmp_path) as st:
        yield st
