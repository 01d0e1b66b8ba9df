"""The agents' short-lived XMPP credential (agents.mode = "oidc") at the real XMPP servers:
ejabberd checks it natively (auth_method: jwt), Prosody with our mod_auth_idchat_jwt. One
server per kind in oidc mode, started for this module only."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

from actors import xmpp_env
from ejabberd_server import EjabberdServer
from prosody_server import ProsodyServer
from xmpp_clients import XMPPConnectError, close, connect_agent
from xmpp_plugin import credential

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
        with pytest.raises(XMPPConnectError, match="authentication failed"):
            await connect_agent(ANNA, token, oidc_server.port)
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
