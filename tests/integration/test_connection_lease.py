"""Prosody takes one component connection: a Redis error while renewing the connection
lease is not a lease lost to another instance. The connected instance keeps its stream
until the lease would really have run out, then stands by, and connects again when
Redis answers (component/lease.py, Gateway._keep_exclusive_connection)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from actors import start_server
from component.gateway import Gateway
from redis_server import RedisServer
from xmpp_plugin.store import connect

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

LEASE = 4.0


@pytest.fixture(scope="module")
def xmpp_server() -> Iterator[Any]:
    server = start_server("prosody")
    yield server
    server.stop()


async def wait_until(predicate: Any, timeout: float) -> float:
    """Seconds until ``predicate()`` held; raises when it did not within ``timeout``."""
    t = time.monotonic()
    while not predicate():
        if time.monotonic() - t > timeout:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - t


async def test_redis_down_keeps_the_stream_until_the_lease_runs_out(
        make_settings: Any, xmpp_server: Any, tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    settings = make_settings(**{k: v for k, v in xmpp_server.env.items()
                                if k.startswith("IDCHAT_XMPP_")},
                             IDCHAT_XMPP_SERVER="prosody", IDCHAT_REDIS_URL=redis.url,
                             IDCHAT_XMPP_LEASE_SECONDS=str(int(LEASE)),
                             IDCHAT_REDIS_TIMEOUT_SECONDS="0.5")
    client = connect(settings, read_timeout=2.0)
    gateway = Gateway(settings, client)
    disconnects: list[float] = []
    gateway.add_event_handler("disconnected", lambda _e: disconnects.append(time.monotonic()))
    gateway.start()
    try:
        await asyncio.wait_for(gateway.online.wait(), 15)
        await wait_until(lambda: gateway.leases.remaining("connection") > LEASE - 0.5, 5)
        # The lease's deadline is counted from when it was read, not from when Redis has
        # stopped: stopping Redis takes its own time on a slow machine.
        remaining, read_at = gateway.leases.remaining("connection"), time.monotonic()
        redis.stop()

        # Renewals now fail every second; the lease is still ours: the stream stays.
        await asyncio.sleep(read_at + remaining - 0.5 - time.monotonic())
        assert gateway.online.is_set() and not disconnects

        # Once it has run out, another instance may hold it: stand by.
        await wait_until(lambda: not gateway.online.is_set(), 2.0)
        stood_by = time.monotonic() - read_at
        assert remaining - 0.1 <= stood_by <= remaining + 1.0

        # Redis is back (empty: the lease is free): this instance connects again.
        redis.start()
        await asyncio.wait_for(gateway.online.wait(), 15)
        assert gateway.leases.remaining("connection") > 0
    finally:
        await gateway.stop()
        await client.aclose()
        redis.stop()
