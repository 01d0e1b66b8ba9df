"""agents.mode = "oidc" in Chromium: anna signs in through the real demo provider
(scripts/oidc_provider.mjs), takes a chat and signs out; no credential is kept in the
browser's storage, and signing out ends the grant the component believes. Prosody only:
the servers' handling of the credential is tests/integration/test_oidc_xmpp.py."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
import redis
from playwright.async_api import expect

from oidc_server import CLIENT_ID
from prosody_server import ProsodyServer
from redis_server import free_port, wait_for_port
from webstack import (
    ATTRS,
    TEST_PRIVKEY,
    TEST_PUBKEY,
    Stack,
    assert_accessible,
    citizen_in_chat,
    new_page,
    screenshot,
    spawn,
    stop,
)

pytestmark = pytest.mark.e2e

CREDENTIAL_KEY = "idchat-e2e-credential-key-0123456789abcdef"


@pytest.fixture
def oidc_stack(oidc_provider: Any, redis_server: Any, tmp_path: Path) -> Iterator[Stack]:
    """Prosody with the agent host in oidc mode, the HTTP service on the port the provider
    knows, and the component; all three from the project's own configuration."""
    port = oidc_provider.http_port
    xmpp = {"IDCHAT_XMPP_SERVER": "prosody",
            "IDCHAT_XMPP_COMPONENT_SECRET": secrets.token_urlsafe(24),
            "IDCHAT_XMPP_C2S_PORT": str(free_port()),
            "IDCHAT_XMPP_COMPONENT_PORT": str(free_port()),
            "IDCHAT_XMPP_HTTP_PORT": str(free_port()),
            "IDCHAT_HTTP_EXTERNAL_URL": f"http://127.0.0.1:{port}",
            "IDCHAT_AGENTS_MODE": "oidc", "IDCHAT_AGENTS_CREDENTIAL_KEY": CREDENTIAL_KEY}
    xmpp["IDCHAT_XMPP_WEBSOCKET_URL"] = f"ws://127.0.0.1:{xmpp['IDCHAT_XMPP_HTTP_PORT']}/xmpp-websocket"
    server = ProsodyServer(Path(tempfile.mkdtemp(prefix="idchat-prosody-oidc-e2e-")), xmpp)
    server.start()
    env = {name: value for name, value in os.environ.items() if not name.startswith("IDCHAT_")}
    env.update(xmpp)
    env.update({
        "IDCHAT_HTTP_PORT": str(port), "IDCHAT_HTTP_INTERNAL_URL": f"http://127.0.0.1:{port}",
        "IDCHAT_REDIS_URL": redis_server.url,
        "IDCHAT_REDIS_KEY_PREFIX": "idchat-e2e-" + secrets.token_hex(4),
        "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_TYPE": "RSA",
        "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(TEST_PRIVKEY),
        "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
        "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY),
        "IDCHAT_DEMO_ENABLED": "true",  # the published test keys: tests only
        "IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(os.urandom(32)).decode(),
        "IDCHAT_AGENTS_ISSUER": oidc_provider.issuer, "IDCHAT_AGENTS_CLIENT_ID": CLIENT_ID,
        "IDCHAT_AGENTS_CLIENT_SECRET_FILE": str(oidc_provider.client_secret_file),
        "IDCHAT_AGENTS_SCOPES": "openid,profile,idchat",
        "IDCHAT_AGENTS_GROUP_PURPOSES": "kcc-algemeen=*",
        "IDCHAT_AGENTS_PROVIDER_CHECK_SECONDS": "0",  # every credential asks the provider
        "IDCHAT_LOG_LEVEL": "INFO",
    })
    logs = {"http": tmp_path / "http.log", "component": tmp_path / "component.log"}
    st = Stack(f"http://127.0.0.1:{port}", xmpp["IDCHAT_XMPP_WEBSOCKET_URL"], env, logs)
    try:
        st.processes.append(spawn("xmpp_plugin", env, logs["http"]))
        st.processes.append(spawn("component", env, logs["component"]))
        wait_for_port(port, 20, st.processes[0])
        yield st
    finally:
        for proc in reversed(st.processes):
            stop(proc)
        server.stop()


def _frames(page: Any) -> dict[str, list[str]]:
    """The XMPP frames the page sends and receives over its WebSockets."""
    frames: dict[str, list[str]] = {"sent": [], "received": []}

    def watch(ws: Any) -> None:
        ws.on("framesent", lambda payload: frames["sent"].append(str(payload)))
        ws.on("framereceived", lambda payload: frames["received"].append(str(payload)))
    page.on("websocket", watch)
    return frames


async def _renewal_accepted(frames: dict[str, list[str]], timeout: float = 10) -> None:
    """A <credential/> IQ went out and the server answered it with a result."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for sent in frames["sent"]:
            if "protocol/credential/1" in sent and (found := re.search(r'id="([^"]+)"', sent)):
                answers = [f for f in frames["received"] if found.group(1) in f]
                if any('type="result"' in a or "type='result'" in a for a in answers):
                    return
                assert not any("error" in a for a in answers), answers
        await asyncio.sleep(0.1)
    raise AssertionError("no credential renewal was answered: "
                         f"{[f for f in frames['sent'] if 'credential' in f]}")


STORAGE = """() => [sessionStorage, localStorage].map((s) => Object.keys(s).map((k) => [k, s.getItem(k)]))"""


@pytest.mark.timeout(120)
async def test_anna_signs_in_with_the_provider_takes_a_chat_and_signs_out(
        oidc_stack: Stack, oidc_provider: Any, browser: Any, request: Any) -> None:
    st = oidc_stack
    ctx, agent, watch = await new_page(browser, st)
    # The page's clock is ours to move on (it runs at real speed until then): the console's
    # renewal at half the credential's lifetime is reached without waiting for it.
    await ctx.clock.install()
    frames = _frames(agent)
    await agent.goto(st.base_url + "/agent")
    button = agent.locator("[data-action=login-oidc]")
    await expect(button).to_have_text("Inloggen via de gemeente")
    await expect(agent.locator("#idchat-password")).to_have_count(0)   # no password form here
    await assert_accessible(agent, "the console's sign-in with the identity provider")
    await button.click()

    # The provider's own page: the demo user anna, her password.
    await agent.wait_for_url(f"{oidc_provider.issuer}/**")
    await agent.fill("input[name=login]", "anna")
    await agent.fill("input[name=password]", "anna")
    await agent.click("button[type=submit]")
    await agent.wait_for_url(f"{st.base_url}/agent")
    await expect(agent.locator(".idchat-account__name")).to_have_text("Ingelogd als Anna", timeout=15000)

    # The credential stays in page memory: nothing in the browser's storage holds a JWT.
    sessions, locals_ = await agent.evaluate(STORAGE)
    assert sessions, "the scan sees the tab's storage (Converse keeps its session there)"
    assert not [k for k, v in sessions + locals_ if "eyJ" in (v or "")], sessions + locals_

    # Take a chat as any agent does.
    await agent.locator(".idchat-switch").click()
    await agent.locator(".idchat-desk__state.is-available").wait_for()
    cctx, citizen, _ = await citizen_in_chat(browser, st, agent, ATTRS, agent_name="Anna")
    await expect(agent.locator(".idchat-card__title:visible")).to_contain_text("Juliet Capulet")
    await screenshot(agent, request, "oidc-chat")

    # Half the credential's lifetime later the console renews: a fresh grant, and the next
    # credential handed to Prosody in-band, which accepts it.
    r = redis.Redis.from_url(st.env["IDCHAT_REDIS_URL"])
    grant = f"{st.env['IDCHAT_REDIS_KEY_PREFIX']}:agentgrant:anna@agents.idchat.localhost"
    first = json.loads(r.get(grant))["exp"]
    await asyncio.sleep(1.1)  # the next credential's exp is a whole second later
    await agent.clock.fast_forward(160_000)
    await _renewal_accepted(frames)
    assert json.loads(r.get(grant))["exp"] > first
    await expect(agent.locator(".idchat-account__name")).to_have_text("Ingelogd als Anna")

    # A reload signs in again with a fresh credential, and the chat is still hers.
    await agent.reload()
    await expect(agent.locator(".idchat-account__name")).to_have_text("Ingelogd als Anna", timeout=15000)
    await expect(agent.locator(".idchat-card__title:visible")).to_contain_text("Juliet Capulet")

    # The provider no longer knows anna (a leaver): the next credential is refused, the
    # console says she was signed out, and the grant is gone.
    assert r.exists(grant)
    oidc_provider.set_user("anna", active=False)
    try:
        await agent.reload()
        await expect(agent.locator(".idchat-signin__error")).to_have_text("U bent uitgelogd. Log opnieuw in.")
        await expect(agent.locator("[data-action=login-oidc]")).to_be_visible()
        assert not r.exists(grant)
    finally:
        oidc_provider.set_user("anna", active=True)

    # Signed in again (the provider's own session still stands: no form), then out: the
    # grant the component believes is gone at once; the browser goes on to the provider.
    await agent.locator("[data-action=login-oidc]").click()
    await expect(agent.locator(".idchat-account__name")).to_have_text("Ingelogd als Anna", timeout=15000)
    assert r.exists(grant)
    await agent.locator("[data-action=logout]").click()
    await agent.wait_for_url(f"{oidc_provider.issuer}/**")
    assert not r.exists(grant)
    assert not list(r.scan_iter(f"{st.env['IDCHAT_REDIS_KEY_PREFIX']}:agentsession:*"))
    assert watch.errors == []
    r.close()
    for context in (ctx, cctx):
        await context.close()
