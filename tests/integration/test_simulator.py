"""The demo's core simulator (demo only): it plays ID Contact for a newcomer, and refuses a
"verified" login that shares no detail at all (it would show an empty verified card)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from redis_server import free_port
from tokenlab import TEST_PRIVKEY, TEST_PUBKEY
from xmpp_plugin.app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(aiohttp_client: Any, make_settings: Any) -> TestClient:
    port = free_port()  # the simulator calls the service's own internal_url
    settings = make_settings(
        IDCHAT_HTTP_PORT=str(port), IDCHAT_HTTP_INTERNAL_URL=f"http://127.0.0.1:{port}",
        IDCHAT_HTTP_EXTERNAL_URL=f"http://127.0.0.1:{port}",
        IDCHAT_DEMO_ENABLED="true", IDCHAT_DEMO_CORE_SIMULATOR="true",
        IDCHAT_DEMO_ENCRYPTION_PUBKEY_TYPE="RSA", IDCHAT_DEMO_ENCRYPTION_PUBKEY_FILE=str(TEST_PUBKEY),
        IDCHAT_DEMO_SIGNING_PRIVKEY_TYPE="RSA", IDCHAT_DEMO_SIGNING_PRIVKEY_FILE=str(TEST_PRIVKEY))
    return await aiohttp_client(TestServer(create_app(settings), port=port))


async def sessions(client: TestClient) -> int:
    from xmpp_plugin.appkeys import STORE
    store = client.app[STORE]
    return len([k async for k in store.redis.scan_iter(match=store.keys.session("*"))])


async def test_an_empty_verified_login_is_refused_and_starts_nothing(client: TestClient) -> None:
    form = {"purpose": "report_move", "route": "auth_result"}
    resp = await client.post("/demo/core", data=form, allow_redirects=False,
                             headers={"Accept": "application/json"})
    assert resp.status == 400
    assert (await resp.json())["type"].endswith("/problems/invalid-request")
    assert await sessions(client) == 0

    # Positive control: with one detail the same form starts a chat.
    resp = await client.post("/demo/core", data={**form, "fullname": "Juliet Capulet"},
                             allow_redirects=False)
    assert resp.status == 303
    assert await sessions(client) == 1
