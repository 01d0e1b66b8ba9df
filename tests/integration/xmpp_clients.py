"""slixmpp clients for integration tests against a real XMPP server.

Each ``connect_*`` coroutine returns a client whose session has started
(authenticated and bound), or raises :class:`XMPPConnectError` with the reason
(wrong secret, failed authentication, refused connection, timeout) and leaves
no connection behind. Close a client with :func:`close`.

Test clients talk plain TCP on loopback: STARTTLS is still advertised by the
server, so it is switched off here, and SASL PLAIN is allowed without TLS.
These settings are for tests only.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from slixmpp import JID, ClientXMPP, ComponentXMPP
from slixmpp.basexmpp import BaseXMPP

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
) -> None:
    """Join ``room`` as ``nick``; raise :class:`MUCJoinRefused` on an error presence.

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
            room, nick, presence_options=options, maxstanzas=0, timeout=timeout
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


ROOMCONFIG_FORM_TYPE = "http://jabber.org/protocol/muc#roomconfig"

# A members-only, hidden, temporary room without history: what the component
# asks for. Fields the server does not offer are left out when submitting.
PRIVATE_ROOM_CONFIG: dict[str, Any] = {
    "muc#roomconfig_membersonly": True,
    "muc#roomconfig_publicroom": False,
    "muc#roomconfig_persistentroom": False,
    "muc#roomconfig_historylength": "0",
    "muc#roomconfig_defaulthistorymessages": "0",
}


async def create_room(
    component: ComponentXMPP,
    room: JID | str,
    *,
    owner: JID | str,
    nick: str = "idchat",
    config: dict[str, Any] | None = None,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """Create ``room`` as ``owner`` (a JID of the component) and configure it.

    Joins the room (which creates it, locked), fetches the configuration form,
    submits ``config`` (default :data:`PRIVATE_ROOM_CONFIG`) restricted to the
    fields the server offers, and returns the values the server offered
    before the change (its defaults).
    """
    room, owner = JID(room), JID(owner)
    muc = component.plugin["xep_0045"]
    await join_room(component, room, nick, pfrom=owner, timeout=timeout)
    offered = await muc.get_room_config(room, ifrom=owner, timeout=timeout)
    defaults = offered.get_values()
    form = component.plugin["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value=ROOMCONFIG_FORM_TYPE)
    for var, value in (PRIVATE_ROOM_CONFIG if config is None else config).items():
        if var in defaults:
            form.add_field(var=var, value=value)
    await muc.set_room_config(room, form, ifrom=owner, timeout=timeout)
    return defaults


async def close(xmpp: BaseXMPP, wait: float = 2.0) -> None:
    """Close the stream (waiting up to ``wait`` s for the server) and stop any retries."""
    xmpp.cancel_connection_attempt()
    try:
        await xmpp.disconnect(wait=wait)
    finally:
        xmpp.abort()
