"""Citizens and agents as real slixmpp clients speaking our protocol (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from slixmpp import JID, ClientXMPP, Message
from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath

from component.gateway import Gateway
from component.protocol import stanza
from ejabberd_server import EjabberdServer
from prosody_server import ProsodyServer
from redis_server import free_port
from tokenlab import ATTRS, token
from xmpp_clients import close, connect_agent, connect_guest, join_room
from xmpp_plugin.keys import load_private_key, load_public_key
from xmpp_plugin.settings import Settings
from xmpp_plugin.store import SessionStore
from xmpp_plugin.tokens import TokenVerifier

AGENTS = ("romeo", "mercutio", "benvolio", "tybalt", "paris")
AGENT_PASSWORD = "test-only-password"
WAIT = 8.0
HA_ADMIN = "idchat-test-admin"  # on redis_ha's data nodes: the test's own eyes and hands
HA_PREFIX = "idchat-ha"         # redis.key_prefix on redis_ha (its ACL is written for it)

stanza.register()


def xmpp_env() -> dict[str, str]:
    return {
        "IDCHAT_XMPP_COMPONENT_SECRET": secrets.token_urlsafe(24),
        "IDCHAT_XMPP_C2S_PORT": str(free_port()),
        "IDCHAT_XMPP_COMPONENT_PORT": str(free_port()),
        "IDCHAT_XMPP_HTTP_PORT": str(free_port()),
        # Every test guest comes from 127.0.0.1: far above the production cap of 10.
        "IDCHAT_LIMITS_GUEST_SESSIONS_PER_ADDRESS": "10000",
    }


class Actor:
    """A connected client that collects our headlines and the room's messages."""

    def __init__(self, xmpp: ClientXMPP, component: str) -> None:
        self.xmpp = xmpp
        self.component = component
        self.headlines: list[Message] = []
        self.room_messages: list[Message] = []
        self._changed = asyncio.Event()
        # Headlines carry no <body>, so slixmpp's "message" event never fires for them.
        xmpp.register_handler(Callback("idchat headlines", StanzaPath("message@type=headline"),
                                       self._on_message))
        xmpp.add_event_handler("groupchat_message", self._on_groupchat)

    @property
    def jid(self) -> JID:
        return self.xmpp.boundjid

    def _on_message(self, msg: Message) -> None:
        if msg["type"] == "headline":
            self.headlines.append(msg)
            self._changed.set()

    def _on_groupchat(self, msg: Message) -> None:
        self.room_messages.append(msg)
        self._changed.set()

    async def wait_for(self, kind: str, pred: Callable[[Any], bool] = lambda el: True,
                       timeout: float = WAIT, after: int = 0) -> Any:
        """The first headline (from index ``after``) with our element ``kind`` matching ``pred``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for msg in self.headlines[after:]:
                if msg.xml.find(f"{{{stanza.NS}}}{kind.split('_', 1)[1]}") is not None \
                        and pred(msg[kind]):
                    return msg[kind]
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                got = [m.xml.tag for m in self.headlines]
                raise AssertionError(f"no {kind} matching within {timeout}s; got {len(got)} headlines")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def wait_for_room(self, body: str, timeout: float = WAIT) -> Message:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for msg in self.room_messages:
                if msg["body"] == body:
                    return msg
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no room message {body!r} within {timeout}s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def iq(self, kind: str, ptype: str = "set", **attrs: str) -> Any:
        iq = self.xmpp.make_iq(ito=self.component, itype=ptype)
        el = iq[kind]
        for k, v in attrs.items():
            el[k] = v
        return await iq.send(timeout=WAIT)

    async def say(self, room: str, text: str) -> None:
        self.xmpp.send_message(mto=JID(room), mbody=text, mtype="groupchat")

    async def close(self) -> None:
        await close(self.xmpp)


class Citizen(Actor):
    room: str = ""

    async def claim(self, ticket: str) -> Any:
        return (await self.iq("idchat_claim", ticket=ticket))["idchat_claimed"]

    async def claim_and_join(self, ticket: str) -> Any:
        claimed = await self.claim(ticket)
        self.room = claimed["room"]
        await join_room(self.xmpp, claimed["room"], claimed["nick"])
        return claimed


class Agent(Actor):
    async def open_chats(self, max_chats: int) -> list[str]:
        """Re-announce availability; the component's answer lists our open chats (§3)."""
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_presence(pres: Any) -> None:
            if pres["from"].bare == self.component and not answer.done():
                answer.set_result([c["id"] for c in pres["idchat_agent"]["chats"]])

        self.xmpp.add_event_handler("presence", on_presence)
        try:
            await self.available(max_chats)
            return await asyncio.wait_for(answer, WAIT)
        finally:
            self.xmpp.del_event_handler("presence", on_presence)

    async def available(self, max_chats: int = 1, show: str | None = None,
                        nick: str | None = None) -> None:
        pres = self.xmpp.make_presence(pto=self.component, pshow=show)
        pres["idchat_agent"]["max-chats"] = str(max_chats)
        if nick is not None:  # XEP-0172, as the console sends it
            name = ET.Element("{http://jabber.org/protocol/nick}nick")
            name.text = nick
            pres.append(name)
        pres.send()

    async def accept(self, offer: Any) -> str:
        accepted = (await self.iq("idchat_accept", offer=offer["id"]))["idchat_accepted"]
        await join_room(self.xmpp, accepted["room"], self.jid.user.capitalize())
        return accepted["room"]


class Flooder:
    """An anonymous guest turned attacker: once logged in, its stream is taken over to
    write raw junk claims as fast as a script would, and the replies are only counted
    (slixmpp parsing 60,000 replies would cost this process seconds of CPU)."""

    NEEDLES = {"resource-constraint": b"<resource-constraint", "not-authorized": b"<not-authorized",
               "service-unavailable": b"<service-unavailable",
               "internal-server-error": b"<internal-server-error"}

    def __init__(self, xmpp: ClientXMPP, component: str, index: int) -> None:
        self.xmpp, self.component, self.index = xmpp, component, index
        self.counts = {k: 0 for k in self.NEEDLES}
        self.sent = 0
        self._tail = b""
        self._keep = max(len(n) for n in self.NEEDLES.values()) - 1
        # asyncio calls the protocol's data_received for every read: the parser is bypassed.
        xmpp.data_received = self._count  # type: ignore[method-assign]

    def _count(self, data: bytes) -> None:
        buf = self._tail + data
        for key, needle in self.NEEDLES.items():
            self.counts[key] += buf.count(needle) - self._tail.count(needle)
        self._tail = buf[-self._keep:]

    def junk(self, first: int, count: int) -> bytes:
        """``count`` claim IQs with junk tickets (built ahead: writing them is then cheap)."""
        g = self.index
        return "".join(f"<iq type='set' id='f{g}x{n}' to='{self.component}'>"
                       f"<claim xmlns='{stanza.NS}' ticket='junk-{g}-{n}'/></iq>"
                       for n in range(first, first + count)).encode()

    def write(self, data: bytes, count: int) -> None:
        self.xmpp.transport.write(data)
        self.sent += count

    @property
    def answered(self) -> int:
        return sum(self.counts.values())


def start_server(kind: str) -> Any:
    """Prosody or ejabberd from the project's own configuration, on free ports, with agents."""
    # ejabberd runs as its own user, which cannot enter pytest's private tmp folders.
    workdir = Path(tempfile.mkdtemp(prefix=f"idchat-{kind}-"))
    os.chmod(workdir, 0o755)
    server = (ProsodyServer if kind == "prosody" else EjabberdServer)(workdir, xmpp_env())
    server.start()
    try:
        for name in AGENTS:
            server.register(name, "agents.idchat.localhost", AGENT_PASSWORD)
    except BaseException:  # the fixture never yields: nobody else would stop it
        server.stop()
        raise
    return server



@dataclass
class Stack:
    settings: Settings
    store: SessionStore
    gateway: Gateway
    server: Any  # ProsodyServer or EjabberdServer
    audit_file: Path
    actors: list[Actor] = field(default_factory=list)
    flooders: list["Flooder"] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.settings.xmpp.c2s_port

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(load_private_key(self.settings.tokens.decryption_privkey),
                             load_public_key(self.settings.tokens.signature_pubkey))

    async def session(self, attributes: dict[str, str] | None = ATTRS, *, purpose: str = "report_move",
                      pending: bool = False, **token_kw: Any) -> str:
        """A session as the HTTP service makes it; returns its id."""
        # RS256 is deterministic: equal claims in the same second make equal tokens, which
        # the store refuses as a replay. A nonce keeps each test session's token unique.
        token_kw.setdefault("claims", {})["test_nonce"] = secrets.token_hex(8)
        auth = None if pending else self.verifier().check(token(attributes, **token_kw))
        return (await self.store.create(purpose, auth)).id

    async def citizen(self) -> Citizen:
        xmpp = await connect_guest(self.settings.xmpp.guest_domain, self.port)
        actor = Citizen(xmpp, self.settings.xmpp.component_domain)
        self.actors.append(actor)
        return actor

    async def flooder(self, index: int = 0) -> Flooder:
        xmpp = await connect_guest(self.settings.xmpp.guest_domain, self.port)
        flooder = Flooder(xmpp, self.settings.xmpp.component_domain, index)
        self.flooders.append(flooder)
        return flooder

    async def agent(self, name: str = "romeo") -> Agent:
        xmpp = await connect_agent(f"{name}@{self.settings.xmpp.agent_domain}", AGENT_PASSWORD,
                                   self.port)
        actor = Agent(xmpp, self.settings.xmpp.component_domain)
        self.actors.append(actor)
        return actor

    async def close(self) -> None:
        for flooder in self.flooders:  # no goodbye: their parser was switched off
            flooder.xmpp.abort()
        for actor in self.actors:
            closing = asyncio.ensure_future(actor.close())
            done, _ = await asyncio.wait({closing}, timeout=5)
            if not done:
                closing.cancel()
            actor.xmpp.abort()


def error_condition(exc: IqError) -> str:
    return exc.iq["error"]["condition"]  # type: ignore[no-any-return]


def form_values(form: Any) -> dict[str, str]:
    """XEP-0004 result form values as plain strings (single-valued fields)."""
    out = {}
    for var, value in form.get_values().items():
        out[var] = value[0] if isinstance(value, list) and len(value) == 1 else value
    return out
