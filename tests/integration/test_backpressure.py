"""Back-pressure you can see: while Redis is frozen (SIGSTOP: connections stay open, nothing
answers) or stopped, the HTTP API answers 503 with Retry-After within about
redis.timeout_seconds, and the component answers a claim <service-unavailable/> within a
bound instead of keeping the citizen's page waiting. Nothing is changed meanwhile, and
everything works again once Redis is back."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Iterator

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from slixmpp.exceptions import IqError

from actors import Stack, error_condition
from redis_server import RedisServer
from tokenlab import token
from xmpp_plugin.app import create_app
from xmpp_plugin.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

TIMEOUT = 1.0   # redis.timeout_seconds here
SLACK = 0.75    # a loaded test machine's scheduling, on top of it


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis of this module's own: its tests freeze and stop it."""
    server = RedisServer(tmp_path_factory.mktemp("redis-frozen")).start()
    yield server
    if server.is_running():
        server.resume()
    server.stop()


@pytest.fixture
def stack_settings(make_settings: Any, stack_env: dict[str, str]) -> Settings:
    return make_settings(**stack_env, IDCHAT_REDIS_TIMEOUT_SECONDS=str(TIMEOUT))  # type: ignore[no-any-return]


@pytest.fixture
async def client(aiohttp_client: Any, make_settings: Any) -> TestClient:
    settings = make_settings(IDCHAT_REDIS_TIMEOUT_SECONDS=str(TIMEOUT))
    return await aiohttp_client(TestServer(create_app(settings)))  # type: ignore[no-any-return]


async def requests(client: TestClient, sid: str, attr_id: str) -> list[tuple[str, Any]]:
    """Every endpoint that needs Redis, as the core and the citizen's browser call them."""
    html = {"Accept": "text/html"}
    return [
        ("POST /start_communication", lambda: client.post("/start_communication",
                                                          json={"purpose": "report_move"})),
        ("GET /s/{sid}", lambda: client.get(f"/s/{sid}")),
        ("GET /s/{sid} (page)", lambda: client.get(f"/s/{sid}", headers=html)),
        ("POST /s/{sid}/ticket", lambda: client.post(f"/s/{sid}/ticket")),
        ("POST /attributes/{attr_id}", lambda: client.post(
            f"/attributes/{attr_id}", data=token(), headers={"Content-Type": "application/jwt"})),
        ("GET /readyz", lambda: client.get("/readyz")),
    ]


async def answers(client: TestClient, sid: str, attr_id: str) -> dict[str, tuple[int, str, float, Any]]:
    out = {}
    for name, call in await requests(client, sid, attr_id):
        began = time.monotonic()
        resp = await call()
        took = time.monotonic() - began
        body = await (resp.json() if resp.content_type.endswith("json") else resp.text())
        out[name] = (resp.status, resp.headers.get("Retry-After", ""), took, body)
    return out


async def a_session(client: TestClient) -> tuple[str, str]:
    resp = await client.post("/start_communication", json={"purpose": "report_move"})
    assert resp.status == 200
    urls = await resp.json()
    sid = urls["client_url"].rsplit("/", 1)[1]
    assert (await client.get(f"/s/{sid}")).status == 200      # this browser holds the chat
    return sid, urls["attr_url"].rsplit("/", 1)[1]


# Keeps Redis busy for 0.8 s at a time: another command waits behind it, never as long
# as the timeout, but a request of several commands would, one after another.
BUSY = """
local start = redis.call('TIME')
while true do
  local now = redis.call('TIME')
  if (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > 800000 then return 1 end
end
"""


async def keep_busy(redis_server: RedisServer, stop: asyncio.Event) -> None:
    busy = aioredis.from_url(redis_server.url, socket_timeout=5)
    try:
        while not stop.is_set():
            await busy.eval(BUSY, 0)
    finally:
        await busy.aclose()


@pytest.mark.parametrize("how", ["frozen", "stopped"])
async def test_the_api_answers_503_with_retry_after_in_time(client: TestClient,
                                                            redis_server: RedisServer,
                                                            how: str) -> None:
    sid, attr_id = await a_session(client)
    if how == "frozen":
        redis_server.pause()
    else:
        redis_server.stop()
    try:
        seen = await answers(client, sid, attr_id)
    finally:
        if how == "frozen":
            redis_server.resume()
        else:
            redis_server.start()
    for name, (status, retry, took, body) in seen.items():
        assert (status, retry) == (503, "5"), (name, status, body)
        assert took < TIMEOUT + SLACK, (name, took)
        if isinstance(body, dict) and name != "GET /readyz":
            assert body["type"] == "/problems/unavailable", (name, body)
    assert seen["GET /readyz"][3]["redis"] == "down"
    page = seen["GET /s/{sid} (page)"][3]
    assert isinstance(page, str) and "<html" in page                 # a page, not JSON

    # Redis is back: the same requests work (a stopped Redis lost the session: start anew).
    if how == "stopped":
        sid, attr_id = await a_session(client)
    after = await answers(client, sid, attr_id)
    assert {name: status for name, (status, *_rest) in after.items()} == {
        "POST /start_communication": 200, "GET /s/{sid}": 200, "GET /s/{sid} (page)": 200,
        "POST /s/{sid}/ticket": 200, "POST /attributes/{attr_id}": 200,
        "GET /readyz": 503}                                # no component runs here: not ready
    assert after["GET /readyz"][3] == {"status": "degraded", "redis": "up", "xmpp": "down"}


async def test_a_slow_redis_gets_a_request_answered_or_refused_within_the_timeout(
        client: TestClient, redis_server: RedisServer) -> None:
    """Each command answers, slowly: a request of several commands (a fresh ticket after a
    lost connection: the session, the browser, the keep-alive, the ticket) may not add
    their waits up. (The page itself is one command since issue 15.)"""
    sid, _ = await a_session(client)
    assert (await client.get(f"/s/{sid}")).status == 200     # this browser holds the chat
    stop = asyncio.Event()
    load = asyncio.ensure_future(keep_busy(redis_server, stop))
    seen = []
    try:
        await asyncio.sleep(0.1)
        for _ in range(4):
            began = time.monotonic()
            resp = await client.post(f"/s/{sid}/ticket")
            seen.append((resp.status, resp.headers.get("Retry-After", ""),
                         round(time.monotonic() - began, 2)))
    finally:
        stop.set()
        await load
    assert all(took < TIMEOUT + SLACK for _, _, took in seen), seen
    assert all(status == 200 or (status, retry) == (503, "5") for status, retry, _ in seen), seen
    assert any(status == 503 for status, _, _ in seen), seen     # it was slow enough to matter
    assert (await client.post(f"/s/{sid}/ticket")).status == 200


async def test_a_claim_while_redis_is_frozen_is_refused_in_time(connected_stack: Stack,
                                                                redis_server: RedisServer) -> None:
    st = connected_stack
    citizen = await st.citizen()
    ticket = await st.store.issue_ticket(await st.session())
    redis_server.pause()
    try:
        began = time.monotonic()
        with pytest.raises(IqError) as refused:
            await citizen.claim(ticket)
        took = time.monotonic() - began
    finally:
        redis_server.resume()
    assert error_condition(refused.value) == "service-unavailable", refused.value.iq
    assert refused.value.iq["error"]["type"] == "wait"                  # try again later
    assert "Redis" in refused.value.iq["error"]["text"]                 # ours, not the server's
    assert took < TIMEOUT + SLACK, took
    # Redis is back: the citizen claims (a fresh ticket: the page asks for one) and waits.
    claimed = await citizen.claim_and_join(await st.store.issue_ticket(
        (await st.store.redis.get(st.store.keys.ticket(ticket)) or b"").decode() or await st.session()))
    assert claimed["state"] == "queued"
