"""slixmpp connections for the ejabberd integration tests: component, agent, guest.

Loopback only, without TLS (the shipped config offers no certificates): test
clients must allow PLAIN over an unencrypted stream.
"""

from __future__ import annotations

import asyncio

from slixmpp import JID, ClientXMPP, ComponentXMPP
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.plugins.xep_0004 import Form
from slixmpp.xmlstream import ElementBase

from component.rooms import Rooms
from component.stateless import MUC_PLUGIN

STREAM_ERROR_NS = "urn:ietf:params:xml:ns:xmpp-streams"


class ConnectionRefused(Exception):
    """The server closed the stream before the session started."""


async def connect_component(domain: str, secret: str, port: int, timeout: float = 10) -> ComponentXMPP:
    """A XEP-0114 component session on 127.0.0.1:port, with MUC support for many from-JIDs."""
    xmpp = ComponentXMPP(
        domain, secret, "127.0.0.1", port,
        plugin_config={"xep_0045": {"multi_from": True}},
        fix_error_ns=True,  # otherwise every error stanza parses as feature-not-implemented
    )  # fmt: skip
    for plugin in ("xep_0030", "xep_0004", "xep_0045", "xep_0199", "xep_0334"):
        xmpp.register_plugin(plugin)
    await _session(xmpp, port, timeout)
    return xmpp


async def connect_agent(jid: str, password: str, port: int, timeout: float = 10) -> ClientXMPP:
    """An agent logged in with its account (SASL PLAIN)."""
    xmpp = _client(jid, password)
    xmpp.plugin["feature_mechanisms"].unencrypted_plain = True  # loopback test only
    await _session(xmpp, port, timeout)
    return xmpp


async def connect_guest(domain: str, port: int, timeout: float = 10) -> ClientXMPP:
    """A citizen logged in anonymously (SASL ANONYMOUS); the server picks the JID."""
    xmpp = _client(domain, "", sasl_mech="ANONYMOUS")
    await _session(xmpp, port, timeout)
    return xmpp


async def close(*streams: ClientXMPP | ComponentXMPP) -> None:
    """End each stream politely; drop it if the server is already gone."""
    for xmpp in streams:
        try:
            await asyncio.wait_for(xmpp.disconnect(wait=1), 3)
        except (asyncio.TimeoutError, OSError):
            pass
        xmpp.abort()


def _client(jid: str, password: str, **kwargs) -> ClientXMPP:
    xmpp = ClientXMPP(jid, password, **kwargs)
    # The shipped config has no certificates: plain TCP only (loopback tests).
    xmpp.enable_direct_tls = False
    xmpp.enable_starttls = False
    xmpp.enable_plaintext = True
    for plugin in ("xep_0030", "xep_0045", "xep_0199", "xep_0334"):
        xmpp.register_plugin(plugin)
    return xmpp


async def _session(xmpp: ClientXMPP | ComponentXMPP, port: int, timeout: float) -> None:
    """Connect to 127.0.0.1:port and wait for session_start; raise if the stream ends first."""
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[str | None] = loop.create_future()

    def settle(result: str | None) -> None:
        if not outcome.done():
            outcome.set_result(result)

    def on_stream_error(error: ElementBase) -> None:
        conditions = [c.tag.split("}", 1)[1] for c in error.xml if c.tag.startswith(f"{{{STREAM_ERROR_NS}}}")]
        settle("stream error: " + ",".join(c for c in conditions if c != "text"))

    xmpp.add_event_handler("session_start", lambda _: settle(None))
    xmpp.add_event_handler("stream_error", on_stream_error)
    xmpp.add_event_handler("failed_all_auth", lambda _: settle("authentication failed"))
    xmpp.add_event_handler("disconnected", lambda _: settle("disconnected"))
    xmpp.add_event_handler("connection_failed", lambda e: settle(f"connection failed: {e}"))
    xmpp.connect("127.0.0.1", port)
    try:
        reason = await asyncio.wait_for(outcome, timeout)
    except asyncio.TimeoutError:
        reason = f"no session within {timeout}s"
    if reason is not None:
        xmpp.abort()  # stop slixmpp's endless reconnect attempts
        raise ConnectionRefused(reason)


async def create_room(component: ComponentXMPP, room: JID, owner: JID | None = None, *,
                      timeout: float = 10) -> Form:
    """Create and configure `room` as the product does (component.rooms.Rooms, XEP-0045 §10.1)
    and return the configuration form the server holds for it afterwards.

    No config argument: the tests check the product's own PRIVATE_ROOM, never a copy. The
    room is owned by the component's domain; `owner`, if given, must be that domain.
    """
    if not component.plugin.enabled(MUC_PLUGIN):  # the product's MUC plugin, as it runs
        component.register_plugin(MUC_PLUGIN, {"multi_from": True})
    rooms = Rooms(component, room.domain)
    if owner is not None and owner.bare != rooms.me.bare:
        raise ValueError(f"rooms are owned by the component's domain {rooms.me.bare}, not {owner}")
    await rooms.create(room.user)
    return await component.plugin["xep_0045"].get_room_config(room, ifrom=rooms.me, timeout=timeout)


async def wait_room_gone(component: ComponentXMPP, room: JID, owner: JID, within: float = 5) -> None:
    """Return once the MUC service answers item-not-found for `room`.

    ejabberd answers the destroy IQ before the room process has ended; a stanza
    reaching the room in that moment gets no answer at all, so ask again.
    """
    async with asyncio.timeout(within):
        while True:
            try:
                await component.plugin["xep_0030"].get_info(jid=room, ifrom=owner, timeout=0.5)
            except IqError as error:
                if error.condition == "item-not-found":
                    return
                raise
            except IqTimeout:
                continue
            await asyncio.sleep(0.05)  # still there: destruction not finished yet
