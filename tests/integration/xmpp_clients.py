"""slixmpp clients for integration tests against a real XMPP server.

Each ``connect_*`` coroutine returns a client whose session has started
(authenticated and bound), or raises :class:`XMPPConnectError` with the reason
(wrong secret, failed authentication, refused connection, timeout) and leaves
no connection behind. Close a client with :func:`close`.

Test clients talk plain TCP on loopback: STARTTLS is still advertised by the
server, so it is switched off here, and SASL PLAIN is allowed without TLS.
These settings are for tests only.

Rooms are created by the product's own code (``component.rooms.Rooms``), so the server
tests check the room the product makes, not a look-alike.
"""

from __future__ import annotations

import asyncio
from typing import Any, Mapping, TypeVar

from slixmpp import JID, ClientXMPP, ComponentXMPP
from slixmpp.basexmpp import BaseXMPP

from component.rooms import PRIVATE_ROOM, Rooms
from component.stateless import MUC_PLUGIN

XMPP_HOST = "127.0.0.1"
CONNECT_TIMEOUT = 10.0

ClientT = TypeVar("ClientT", bound=BaseXMPP)


class XMPPConnectError(Exception):
    """The session did not start; the message says why."""


async def _start_session(xmpp: ClientT, host: str, port: int, timeout: float) -> ClientT:
    """Connect ``xmpp`` and wait for session_start or the first sign of failure."""
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[str | None] = loop.create_future()

    def finish(reason: str | None) -> None:
        if not outcome.done():
            outcome.set_result(reason)

    handlers: dict[str, Any] = {
        "session_start": lambda _event: finish(None),
        "stream_error": lambda error: finish(f"stream error: {error['condition']} {error['text']}".strip()),
        "failed_all_auth": lambda _event: finish("authentication failed"),
        "connection_failed": lambda error: finish(f"connection failed: {error}"),
        "disconnected": lambda reason: finish(f"disconnected: {reason}"),
    }
    for name, handler in handlers.items():
        xmpp.add_event_handler(name, handler)
    try:
        xmpp.connect(host, port)
        try:
            reason = await asyncio.wait_for(outcome, timeout)
        except asyncio.TimeoutError:
            reason = f"no session within {timeout} s"
    finally:
        for name, handler in handlers.items():
            xmpp.del_event_handler(name, handler)
    if reason is not None:
        await close(xmpp, wait=0)
        raise XMPPConnectError(reason)
    return xmpp


async def connect_component(
    domain: str,
    secret: str,
    port: int,
    *,
    host: str = XMPP_HOST,
    plugins: tuple[str, ...] = ("xep_0030", "xep_0004", "xep_0045", "xep_0199"),
    timeout: float = CONNECT_TIMEOUT,
) -> ComponentXMPP:
    """An external component (XEP-0114) logged in as ``domain``.

    ``fix_error_ns=True`` or every error reads ``feature-not-implemented``;
    ``multi_from`` lets the MUC plugin join rooms from any JID of the
    component (``pfrom=``).
    """
    xmpp = ComponentXMPP(
        domain,
        secret,
        host,
        port,
        plugin_config={"xep_0045": {"multi_from": True}},
        fix_error_ns=True,
    )
    for plugin in plugins:
        xmpp.register_plugin(plugin)
    return await _start_session(xmpp, host, port, timeout)


def _client(jid: str, password: str, **kwargs: Any) -> ClientXMPP:
    xmpp = ClientXMPP(jid, password, **kwargs)
    # Loopback tests without certificates: no STARTTLS, PLAIN without TLS.
    # enable_direct_tls too: with a host/port given, slixmpp otherwise first
    # tries a direct-TLS handshake on the plain c2s port, which fails with a
    # `connection_failed` event before it falls back to plain TCP.
    xmpp.enable_starttls = False
    xmpp.enable_direct_tls = False
    xmpp.enable_plaintext = True
    xmpp.plugin["feature_mechanisms"].unencrypted_plain = True
    for plugin in ("xep_0030", "xep_0004", "xep_0045", "xep_0199"):
        xmpp.register_plugin(plugin)
    return xmpp


async def connect_guest(
    domain: str,
    port: int,
    *,
    host: str = XMPP_HOST,
    timeout: float = CONNECT_TIMEOUT,
) -> ClientXMPP:
    """An anonymous guest (SASL ANONYMOUS); its JID is in ``xmpp.boundjid``."""
    xmpp = _client(domain, "", sasl_mech="ANONYMOUS")
    return await _start_session(xmpp, host, port, timeout)


async def connect_agent(
    jid: str,
    password: str,
    port: int,
    *,
    host: str = XMPP_HOST,
    timeout: float = CONNECT_TIMEOUT,
) -> ClientXMPP:
    """A password account, e.g. an agent on the agent host."""
    xmpp = _client(jid, password)
    return await _start_session(xmpp, host, port, timeout)


class MUCJoinRefused(Exception):
    """The MUC answered a join with an error presence."""

    def __init__(self, condition: str, text: str = "") -> None:
        super().__init__(f"{condition} {text}".strip())
        self.condition = condition
        self.text = text


async def join_room(
    xmpp: BaseXMPP,
    room: JID | str,
    nick: str,
    *,
    pfrom: JID | str | None = None,
    timeout: float = 5.0,
    history: int = 0,
) -> None:
    """Join ``room`` as ``nick``; raise :class:`MUCJoinRefused` on an error presence.
    ``history``: how many of the room's last messages to ask for (XEP-0045 §7.2.15).

    slixmpp's ``join_muc_wait`` only recognises error presences that carry
    ``<x xmlns='http://jabber.org/protocol/muc'/>``, which Prosody's do not:
    a refused join (not-allowed, registration-required, ...) would only time
    out. Here any presence error from the room ends the wait at once.
    ``pfrom`` is required for components and must be omitted for clients.
    """
    room = JID(room)
    loop = asyncio.get_running_loop()
    refused: asyncio.Future[Any] = loop.create_future()

    def on_error(presence: Any) -> None:
        if presence["from"].bare != room.bare:
            return
        if pfrom is not None and presence["to"] != JID(pfrom):
            return
        if not refused.done():
            refused.set_result(presence)

    options = {"pfrom": JID(pfrom)} if pfrom is not None else {}
    xmpp.add_event_handler("presence_error", on_error)
    join = asyncio.ensure_future(
        xmpp.plugin["xep_0045"].join_muc_wait(
            room, nick, presence_options=options, maxstanzas=history, timeout=timeout
        )
    )
    try:
        await asyncio.wait({join, refused}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if refused.done():
            error = refused.result()["error"]
            raise MUCJoinRefused(error["condition"], error["text"])
        if not join.done():
            raise asyncio.TimeoutError(f"no answer from {room} within {timeout} s")
        join.result()  # re-raise PresenceError/TimeoutError from slixmpp
    finally:
        xmpp.del_event_handler("presence_error", on_error)
        if not join.done():
            join.cancel()
            await asyncio.gather(join, return_exceptions=True)


# The fields of component.rooms.PRIVATE_ROOM that make a room private. Both servers offer
# them, so a room without them (or a server that stops offering one) is no room of ours.
# (Prosody also offers the history length; ejabberd sets it in its config, history_size.)
PRIVACY_FIELDS = (
    "muc#roomconfig_membersonly",
    "muc#roomconfig_publicroom",
    "muc#roomconfig_persistentroom",
)


async def create_room(
    component: ComponentXMPP,
    room: JID | str,
    *,
    owner: JID | str | None = None,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """Create and configure ``room`` as the product does (``component.rooms.Rooms``) and
    return the configuration the server holds for it afterwards (form values).

    No ``config`` argument on purpose: the tests check the room the product creates, with
    its own ``PRIVATE_ROOM``, never a copy that can drift from it. The room is owned by the
    component's domain; ``owner``, if given, must be that domain.
    """
    room = JID(room)
    if not component.plugin.enabled(MUC_PLUGIN):  # the product's MUC plugin, as it runs
        component.register_plugin(MUC_PLUGIN, {"multi_from": True})
    rooms = Rooms(component, room.domain)
    if owner is not None and JID(owner).bare != rooms.me.bare:
        raise ValueError(f"rooms are owned by the component's domain {rooms.me.bare}, not {owner}")
    await rooms.create(room.user)
    held = await component.plugin["xep_0045"].get_room_config(room, ifrom=rooms.me, timeout=timeout)
    return held.get_values()  # type: ignore[no-any-return]


async def server_defaults(component: ComponentXMPP, room: JID | str, *, timeout: float = 5.0) -> dict[str, Any]:
    """The configuration the MUC service gives a new room before anyone configures it (the
    server's own defaults), read from a room created locked and destroyed again."""
    room = JID(room)
    owner = JID(f"{component.boundjid.bare}/defaults")
    muc = component.plugin["xep_0045"]
    await join_room(component, room, "defaults", pfrom=owner, timeout=timeout)
    try:
        offered = await muc.get_room_config(room, ifrom=owner, timeout=timeout)
    finally:
        await muc.destroy(room, ifrom=owner, timeout=timeout)
    return offered.get_values()  # type: ignore[no-any-return]


def config_differences(values: Mapping[str, Any],
                       required: tuple[str, ...] = PRIVACY_FIELDS) -> dict[str, tuple[Any, Any]]:
    """Where a room's configuration differs from the product's ``PRIVATE_ROOM``, as
    {field: (wanted, held)}. Fields the server does not offer are left out, except the
    ``required`` ones, whose absence is a difference: the comparison cannot pass empty.

    Booleans compare by truth (Prosody leaves out the ``<value/>`` of a false boolean),
    everything else as text.
    """
    differences: dict[str, tuple[Any, Any]] = {}
    for var in required:
        if var not in PRIVATE_ROOM:
            raise ValueError(f"{var} is not a field the product configures")
    for var, wanted in PRIVATE_ROOM.items():
        if var not in values:
            if var in required:
                differences[var] = (wanted, "(not offered)")
            continue
        held = values[var]
        same = bool(held) is wanted if isinstance(wanted, bool) else str(held) == str(wanted)
        if not same:
            differences[var] = (wanted, held)
    return differences


async def close(xmpp: BaseXMPP, wait: float = 2.0) -> None:
    """Close the stream (waiting up to ``wait`` s for the server) and stop any retries."""
    xmpp.cancel_connection_attempt()
    try:
        await xmpp.disconnect(wait=wait)
    finally:
        xmpp.abort()
