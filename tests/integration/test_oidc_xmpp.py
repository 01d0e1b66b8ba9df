"""The agents' short-lived XMPP credential (agents.mode = "oidc") at the real XMPP servers:
ejabberd checks it natively (auth_method: jwt), Prosody with our mod_auth_idchat_jwt. One
server per kind in oidc mode, started for this module only."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

from actors import Agent, Stack, error_condition, xmpp_env
from component import audit
from component.gateway import Gateway
from ejabberd_server import EjabberdServer
from prosody_server import ProsodyServer
from xmpp_clients import XMPPConnectError, close, connect_agent
from xmpp_plugin import credential
from xmpp_plugin.agent_store import AgentSession, AgentStore
from xmpp_plugin.store import SessionStore

pytestmark = pytest.mark.integration

KEY = b"idchat-test-credential-key-0123456789abcdef"
HOST = "agents.idchat.localhost"
ANNA = f"anna@{HOST}"
NS = "https://idchat.nl/protocol/credential/1"


@pytest.fixture(scope="module", params=["prosody", "ejabberd"])
def oidc_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"idchat-oidc-{request.param}-"))
    os.chmod(workdir, 0o755)
    env = {**xmpp_env(), "IDCHAT_AGENTS_MODE": "oidc", "IDCHAT_AGENTS_CREDENTIAL_KEY": KEY.decode(),
           "IDCHAT_AGENTS_CREDENTIAL_TTL_SECONDS": "3"}  # ejabberd: a session's time without renewal
    server = (ProsodyServer if request.param == "prosody" else EjabberdServer)(workdir, env)
    server.start()
    server.kind = request.param
    server.port = int(env["IDCHAT_XMPP_C2S_PORT"])
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def _unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_only_a_valid_credential_of_the_same_account_logs_in(oidc_server: Any) -> None:
    good, _ = credential.issue(KEY, ANNA, ("agent",), None, 60)
    anna = await connect_agent(ANNA, good, oidc_server.port)
    assert str(anna.boundjid.bare) == ANNA
    await close(anna)
    now = time.time()
    refused = {
        "another account's": credential.issue(KEY, f"mark@{HOST}", ("agent",), None, 60)[0],
        "expired": credential.issue(KEY, ANNA, ("agent",), None, 60, now=now - 120)[0],
        "another key's": credential.issue(b"x" * 40, ANNA, ("agent",), None, 60)[0],
        "unsigned": _unsigned({"iss": "idchat", "jid": ANNA, "iat": int(now), "exp": int(now) + 60}),
        "a password": "e2e-only-password",
    }
    for what, token in refused.items():
        try:
            await connect_agent(ANNA, token, oidc_server.port)
        except XMPPConnectError as exc:
            assert "authentication failed" in str(exc), what
        else:
            raise AssertionError(f"{what} credential logged in")
    # The positive control again: the same server still lets the good credential in.
    await close(await connect_agent(ANNA, good, oidc_server.port))


async def _renew(xmpp: Any, token: str) -> None:
    iq = xmpp.make_iq_set(ito=HOST)
    element = ET.Element(f"{{{NS}}}credential")
    element.text = token
    iq.append(element)
    await iq.send(timeout=5)


async def test_a_session_ends_when_its_credential_expires_unless_renewed(oidc_server: Any) -> None:
    short, _ = credential.issue(KEY, ANNA, ("agent",), None, 3)
    lapsing = await connect_agent(ANNA, short, oidc_server.port)
    renewed = await connect_agent(ANNA, credential.issue(KEY, ANNA, ("agent",), None, 3)[0],
                                  oidc_server.port)
    ended = asyncio.Event()
    lapsing.add_event_handler("disconnected", lambda _reason: ended.set())
    kept = asyncio.Event()
    renewed.add_event_handler("disconnected", lambda _reason: kept.set())
    # A renewal with another account's credential, or a forged one, is refused.
    with pytest.raises(IqError) as refusal:
        await _renew(renewed, credential.issue(KEY, f"mark@{HOST}", ("agent",), None, 60)[0])
    assert refusal.value.condition == "not-authorized"
    await _renew(renewed, credential.issue(KEY, ANNA, ("agent",), None, 60)[0])
    await asyncio.wait_for(ended.wait(), 8)      # the unrenewed one is closed at expiry
    await asyncio.sleep(1)
    assert not kept.is_set()                     # the renewed one lives on
    assert (await renewed.plugin["xep_0199"].ping(HOST, timeout=5)) is not None
    await close(renewed)
    await close(lapsing, wait=0)


# -- the component: roles from the credential's grant, never from the browser -------------

@pytest.fixture
async def oidc_stack(oidc_server: Any, make_settings: Any, redis_server: Any,
                     tmp_path: Path) -> AsyncIterator[Stack]:
    """The component in oidc mode on ``oidc_server`` (short timers, as the stack fixture)."""
    env = {**{k: v for k, v in oidc_server.env.items() if k.startswith("IDCHAT_XMPP_")},
           "IDCHAT_XMPP_SERVER": oidc_server.kind,
           "IDCHAT_ROUTING_OFFER_TIMEOUT_SECONDS": "2", "IDCHAT_ROUTING_AGENT_GRACE_SECONDS": "1",
           "IDCHAT_ROUTING_ORPHAN_CHECK_SECONDS": "2",
           "IDCHAT_AGENTS_MODE": "oidc", "IDCHAT_AGENTS_ISSUER": "https://login.capulet.lit",
           "IDCHAT_AGENTS_CLIENT_ID": "idchat-agent", "IDCHAT_AGENTS_CLIENT_SECRET": "s",
           "IDCHAT_AGENTS_CREDENTIAL_KEY": KEY.decode()}
    settings = make_settings(**env)
    client = aioredis.from_url(redis_server.url, socket_timeout=10)
    audit.configure(str(tmp_path / "audit.log"))
    gateway = Gateway(settings, client)
    gateway.start()
    await asyncio.wait_for(gateway.online.wait(), 10)
    stack = Stack(settings, SessionStore.from_settings(client, settings), gateway, oidc_server,
                  tmp_path / "audit.log")
    try:
        yield stack
    finally:
        await stack.close()
        await gateway.stop()
        await client.aclose()


async def _presence_refusal(agent: Agent) -> str:
    """Announce availability; the condition of the component's presence error."""
    refused: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_error(pres: Any) -> None:
        if pres["from"].bare == agent.component and not refused.done():
            refused.set_result(pres["error"]["condition"])

    agent.xmpp.add_event_handler("presence_error", on_error)
    try:
        await agent.available()
        return await asyncio.wait_for(refused, 5)
    finally:
        agent.xmpp.del_event_handler("presence_error", on_error)


async def test_the_component_takes_roles_from_the_credential_not_the_browser(
        oidc_stack: Stack) -> None:
    st = oidc_stack
    s = st.settings
    grants = AgentStore(st.store.redis, prefix=s.redis.key_prefix,
                        seal_key=s.store.attributes_key_bytes(), idle_ttl=900, max_ttl=3600)
    token, expires = credential.issue(KEY, ANNA, ("agent",), None, 60)
    anna = Agent(await connect_agent(ANNA, token, st.port), s.xmpp.component_domain)
    st.actors.append(anna)
    # A valid XMPP login, but no grant recorded by the HTTP service: no agent.
    assert await _presence_refusal(anna) == "forbidden"

    session = AgentSession(username="anna", jid=ANNA, roles=("agent",), purposes=None,
                           refresh_token="", started=int(time.time()))
    await grants.grant(session, expires)
    citizen = await st.citizen()
    claimed = await citizen.claim_and_join(await st.store.issue_ticket(await st.session()))
    await anna.available()
    await anna.accept(await anna.wait_for("idchat_offer"))
    await citizen.wait_for("idchat_status", lambda el: el["state"] == "assigned")

    # The supervisor role comes from the grant too.
    with pytest.raises(IqError) as refused:
        await anna.iq("idchat_overview", "get")
    assert error_condition(refused.value) == "forbidden"
    await grants.grant(dataclasses.replace(session, roles=("agent", "supervisor")), expires)
    assert (await anna.iq("idchat_overview", "get"))["idchat_overview"] is not None

    # Signed out, or the provider refused a renewal: the grant is gone. The agent counts as
    # gone offline; after the grace the citizen is back in front of the queue.
    await grants.end_session("no-such-cookie", ANNA)
    await st.gateway.chats.end_lapsed_agents()
    back = await citizen.wait_for(
        "idchat_status", lambda el: el["state"] == "queued" and el["interrupted"] == "true",
        timeout=8)
    assert back["position"] == "1" and claimed["chat"]
    assert await _presence_refusal(anna) == "forbidden"       # and no agent any more
