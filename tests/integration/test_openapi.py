"""/openapi.json describes exactly the routes the router serves."""

from __future__ import annotations

from typing import Any

import pytest

from xmpp_plugin.app import create_app
from xmpp_plugin.openapi import document

pytestmark = pytest.mark.integration


def router_operations(app: Any) -> set[tuple[str, str]]:
    ops = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if route.method in ("HEAD", "*") or "prefix" in info:  # static files are not API
            continue
        ops.add((route.method.lower(), path))
    return ops


@pytest.mark.parametrize("simulator", ["0", "1"])
async def test_openapi_matches_router(make_settings: Any, aiohttp_client: Any,
                                      simulator: str) -> None:
    from tokenlab import TEST_PRIVKEY, TEST_PUBKEY
    settings = make_settings(IDCHAT_DEMO_CORE_SIMULATOR=simulator,
                             IDCHAT_DEMO_ENCRYPTION_PUBKEY_TYPE="RSA",
                             IDCHAT_DEMO_ENCRYPTION_PUBKEY_FILE=str(TEST_PUBKEY),
                             IDCHAT_DEMO_SIGNING_PRIVKEY_TYPE="RSA",
                             IDCHAT_DEMO_SIGNING_PRIVKEY_FILE=str(TEST_PRIVKEY))
    app = create_app(settings)
    client = await aiohttp_client(app)
    served = await (await client.get("/openapi.json")).json()
    assert served["openapi"] == "3.1.0"
    described = {(m, p) for p, item in served["paths"].items() for m in item}
    assert described == router_operations(app)
    assert served == document(settings)
    for path, item in served["paths"].items():
        for op in item.values():
            assert op["responses"], f"{path} has no responses"
