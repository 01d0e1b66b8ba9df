"""Flood limits at the XMPP server (issue 8, item 2), set low through the environment.

A guest sending faster than IDCHAT_LIMITS_GUEST_RATE is slowed down while an agent
sending the same bytes is not, also over WebSocket on Prosody; a guest's short
exchanges within a second's worth of its rate (a login) are not slowed (issue 15); a stanza above IDCHAT_LIMITS_MAX_STANZA_BYTES ends the
session; on Prosody the guest session after IDCHAT_LIMITS_GUEST_SESSIONS_PER_ADDRESS
from one address is refused (ejabberd 23.01 has no such cap: the reverse proxy's job,
docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from actors import AGENT_PASSWORD, xmpp_env
from ejabberd_server import EjabberdServer
from hostile import Inbox, answer
from prosody_server import ProsodyServer
from xmpp_clients import XMPPConnectError, close, connect_agent, connect_guest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

AGENT_DOMAIN = "agents.idchat.localhost"
GUEST_DOMAIN = "guest.idchat.localhost"
GUEST_RATE = 1000        # bytes per second
SESSIONS_PER_ADDRESS = 3
MAX_STANZA = 20000       # bytes
BURST = 3000             # bytes a client sends at once: 3 s worth at the guest rate
EXCHANGES = 8            # back-to-back pings of about 100 bytes: within one second's worth


@pytest.fixture(scope="module", params=["prosody", "ejabberd"])
def limited(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A server of each kind with low limits (agents keep the default rate)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"idchat-{request.param}-limits-"))
    os.chmod(workdir, 0o755)  # ejabberd runs as its own user
    env = {**xmpp_env(),
           "IDCHAT_LIMITS_GUEST_RATE": str(GUEST_RATE),
           "IDCHAT_LIMITS_GUEST_SESSIONS_PER_ADDRESS": str(SESSIONS_PER_ADDRESS),
           "IDCHAT_LIMITS_MAX_STANZA_BYTES": str(MAX_STANZA)}
    server = (ProsodyServer if request.param == "prosody" else EjabberdServer)(workdir / "server", env)
    try:
        server.start()
        server.register("juliet", AGENT_DOMAIN, AGENT_PASSWORD)
        server.c2s = int(env["IDCHAT_XMPP_C2S_PORT"])
        server.http = int(env["IDCHAT_XMPP_HTTP_PORT"])
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def burst_of_pings(domain: str) -> list[str]:
    """At least BURST bytes of pings, each with a distinct id."""
    padding = "x" * 200
    pings: list[str] = []
    while sum(map(len, pings)) < BURST:
        pings.append(f"<iq xmlns='jabber:client' type='get' to='{domain}' id='burst-{len(pings)}-{padding}'>"
                     "<ping xmlns='urn:xmpp:ping'/></iq>")
    return pings


async def time_for_exchanges(xmpp: Any, domain: str) -> float:
    """After a second's rest, EXCHANGES pings of about 100 bytes one after the other
    (each sent when the last is answered, like a login's steps): seconds for all."""
    await asyncio.sleep(1.2)
    inbox = Inbox(xmpp)
    started = time.monotonic()
    for _ in range(EXCHANGES):
        ping = xmpp.make_iq_get(ito=domain)
        ping.enable("ping")
        assert (await answer(xmpp, inbox, ping, timeout=30))["type"] == "result"
    return time.monotonic() - started


async def time_for_burst(xmpp: Any, domain: str) -> float:
    """Send BURST bytes of pings at once, then one more ping: seconds until it is answered.

    Where a rate limit shows depends on the server: Prosody answers what it read at once
    and then pauses reading; ejabberd reads in pieces with pauses in between.
    """
    inbox = Inbox(xmpp)
    pings = burst_of_pings(domain)
    padding = "x" * 200
    started = time.monotonic()
    xmpp.send_raw("".join(pings))
    last = f"burst-{len(pings) - 1}-{padding}"
    await inbox.wait_for(lambda s: s["id"] == last and s["type"] == "result", timeout=30)
    ping = xmpp.make_iq_get(ito=domain)
    ping.enable("ping")
    reply = await answer(xmpp, inbox, ping, timeout=30)
    assert reply["type"] == "result"
    return time.monotonic() - started


async def test_a_guest_is_held_to_its_rate_and_an_agent_is_not(limited: Any) -> None:
    guest = await connect_guest(GUEST_DOMAIN, limited.c2s, timeout=30)
    agent = await connect_agent(f"juliet@{AGENT_DOMAIN}", AGENT_PASSWORD, limited.c2s)
    try:
        exchanges_time = await time_for_exchanges(guest, GUEST_DOMAIN)
        agent_time = await time_for_burst(agent, AGENT_DOMAIN)
        guest_time = await time_for_burst(guest, GUEST_DOMAIN)
    finally:
        await close(guest)
        await close(agent)
    # A guest's short exchanges pass at once: about 800 bytes, within the burst of one
    # second's worth (without a burst each waits for the last one's bytes: 0.7 s).
    assert exchanges_time < 0.3, exchanges_time
    # The guest's bytes go through at its rate (at most one second's worth at once),
    # the agent's, the same bytes, at once.
    assert guest_time >= (BURST - GUEST_RATE) / GUEST_RATE * 0.75, guest_time
    assert agent_time < 0.5, agent_time


async def websocket_guest(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Log a guest in over XMPP-over-WebSocket (RFC 7395) with SASL ANONYMOUS and bind."""
    async def until(marker: str) -> str:
        while marker not in (text := await ws.receive_str(timeout=10)):
            pass
        return text

    opening = f'<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="{GUEST_DOMAIN}" version="1.0"/>'
    await ws.send_str(opening)
    await until("ANONYMOUS")
    await ws.send_str("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>")
    await until("<success")
    await ws.send_str(opening)
    await until("urn:ietf:params:xml:ns:xmpp-bind")
    await ws.send_str("<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    bound = ET.fromstring(await until("<jid"))
    assert bound.get("type") == "result", ET.tostring(bound)


@pytest.mark.parametrize("limited", ["prosody"], indirect=True)
async def test_a_guest_over_websocket_is_held_to_its_rate(limited: Any) -> None:
    """Browsers connect over WebSocket: the same bytes in one frame take seconds there too."""
    url = f"http://127.0.0.1:{limited.http}/xmpp-websocket"
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url, protocols=("xmpp",),
                                   timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
            await websocket_guest(ws)
            await asyncio.sleep(1.2)  # a full bucket, as in the c2s test
            pings = burst_of_pings(GUEST_DOMAIN)
            started = time.monotonic()
            await ws.send_str("".join(pings))
            # As over c2s: the next ping once the whole burst is answered (Prosody answers
            # what it has read, then stops reading).
            answered = [ET.fromstring(await ws.receive_str(timeout=30)) for _ in pings]
            await ws.send_str(f"<iq xmlns='jabber:client' type='get' to='{GUEST_DOMAIN}' id='last'>"
                              "<ping xmlns='urn:xmpp:ping'/></iq>")
            answered.append(ET.fromstring(await ws.receive_str(timeout=30)))
            elapsed = time.monotonic() - started
    assert [(r.get("id"), r.get("type")) for r in answered] == (
        [(ping.split("id='")[1].split("'")[0], "result") for ping in pings] + [("last", "result")])
    assert elapsed >= (BURST - GUEST_RATE) / GUEST_RATE * 0.75, elapsed


async def test_a_stanza_above_the_size_limit_ends_the_session(limited: Any) -> None:
    agent = await connect_agent(f"juliet@{AGENT_DOMAIN}", AGENT_PASSWORD, limited.c2s)
    inbox = Inbox(agent)
    ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_stream_error(error: Any) -> None:
        if not ended.done():
            ended.set_result(error["condition"])

    agent.add_event_handler("stream_error", on_stream_error)
    agent.add_event_handler("disconnected", lambda _: ended.done() or ended.set_result("disconnected"))
    try:
        # Positive control: a large stanza below the limit is delivered (to the agent's own session).
        fits = "a" * (MAX_STANZA - 5000)
        agent.send_message(mto=agent.boundjid, mbody=fits, mtype="chat")
        await inbox.wait_for(lambda s: s.name == "message" and s["body"] == fits)
        assert not ended.done()
        agent.send_message(mto=agent.boundjid, mbody="b" * (MAX_STANZA + 5000), mtype="chat")
        assert await asyncio.wait_for(ended, 10) in {"policy-violation", "disconnected"}
    finally:
        await close(agent)


@pytest.mark.parametrize("limited", ["prosody"], indirect=True)
async def test_prosody_refuses_a_guest_session_above_the_per_address_cap(limited: Any) -> None:
    guests = await asyncio.gather(*(connect_guest(GUEST_DOMAIN, limited.c2s, timeout=30)
                                    for _ in range(SESSIONS_PER_ADDRESS)))
    try:
        with pytest.raises(XMPPConnectError, match="policy-violation"):
            await connect_guest(GUEST_DOMAIN, limited.c2s, timeout=30)
        # The cap is for guests: an agent from the same address still logs in.
        agent = await connect_agent(f"juliet@{AGENT_DOMAIN}", AGENT_PASSWORD, limited.c2s)
        await close(agent)
        # A guest who leaves frees its place.
        await close(guests.pop())
        deadline = time.monotonic() + 10
        while True:
            try:
                guests.append(await connect_guest(GUEST_DOMAIN, limited.c2s, timeout=30))
                break
            except XMPPConnectError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
    finally:
        for guest in guests:
            await close(guest)
