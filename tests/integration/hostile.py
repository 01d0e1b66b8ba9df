"""Helpers for tests that behave like a hostile client: send what the server must refuse,
record everything a client receives, read stream features off a raw socket."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import socket
import ssl
from pathlib import Path
from typing import Any, Callable, Iterable

from slixmpp import JID, ClientXMPP
from slixmpp.basexmpp import BaseXMPP
from slixmpp.xmlstream import ElementBase
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath

STANZAS_NS = "urn:ietf:params:xml:ns:xmpp-stanzas"
STREAMS_NS = "urn:ietf:params:xml:ns:xmpp-streams"
WAIT = 5.0


def condition(stanza: ElementBase) -> str:
    """The defined condition of an error stanza, read from the XML (any client namespace)."""
    for child in stanza.xml:
        if child.tag.endswith("}error") or child.tag == "error":
            for cond in child:
                if cond.tag.startswith(f"{{{STANZAS_NS}}}") and not cond.tag.endswith("}text"):
                    return cond.tag.split("}", 1)[1]
    return ""


class Inbox:
    """Every message, presence and IQ a client receives, in order of arrival."""

    def __init__(self, xmpp: BaseXMPP) -> None:
        self.stanzas: list[ElementBase] = []
        self._changed = asyncio.Event()
        for kind in ("message", "presence", "iq"):
            xmpp.register_handler(Callback(f"inbox {kind} {secrets.token_hex(4)}",
                                           StanzaPath(kind), self._add))

    def _add(self, stanza: ElementBase) -> None:
        self.stanzas.append(stanza)
        self._changed.set()

    def from_bare(self, jid: JID | str) -> list[ElementBase]:
        bare = JID(jid).bare
        return [s for s in self.stanzas if s["from"].bare == bare]

    async def wait_for(self, pred: Callable[[ElementBase], bool], timeout: float = WAIT) -> ElementBase:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for stanza in self.stanzas:
                if pred(stanza):
                    return stanza
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"nothing matching within {timeout}s; got {len(self.stanzas)} stanzas")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass


async def answer(xmpp: BaseXMPP, inbox: Inbox, stanza: ElementBase, timeout: float = WAIT) -> ElementBase:
    """Send `stanza` and return the reply with its id: an IQ result or error, or an error.

    Sent raw and matched by id in the inbox, not through slixmpp's IQ futures: with the
    component in the same process slixmpp parses client errors with the component's
    namespace and cannot build an IqError from them.
    """
    stanza["id"] = "hostile-" + secrets.token_hex(6)
    sent_id = stanza["id"]
    xmpp.send(stanza)
    return await inbox.wait_for(
        lambda s: s["id"] == sent_id and s["type"] in {"error", "result"} and s.name == stanza.name,
        timeout)


async def refused(xmpp: BaseXMPP, inbox: Inbox, stanza: ElementBase, timeout: float = WAIT) -> str:
    """Send a stanza that must be refused; return the condition of the error that comes back."""
    reply = await answer(xmpp, inbox, stanza, timeout)
    assert reply["type"] == "error", f"{stanza.name} to {stanza['to']} was answered: {reply}"
    return condition(reply)


async def roster_items(xmpp: BaseXMPP, timeout: float = WAIT) -> set[str]:
    """The bare JIDs in the account's roster, read from the server (no roster versioning)."""
    iq = xmpp.Iq()
    iq["type"] = "get"
    iq.enable("roster")
    result = await iq.send(timeout=timeout)
    return {JID(jid).bare for jid in result["roster"]["items"]}


def probes(xmpp: BaseXMPP, target: JID | str, text: str) -> Iterable[tuple[str, ElementBase]]:
    """One of every kind of stanza a guest could use to reach `target`, each with a label."""
    target = JID(target)
    for mtype in ("chat", "normal", "headline"):
        yield f"{mtype} message", xmpp.make_message(mto=target, mbody=f"{text} ({mtype})", mtype=mtype)
    yield "subscription request", xmpp.make_presence(pto=target, ptype="subscribe")
    yield "directed presence", xmpp.make_presence(pto=target, pstatus=text)


def files_containing(root: Path, needle: str, skip: Callable[[Path], bool] = lambda p: False) -> list[Path]:
    """Files under `root` whose bytes contain `needle` (the server's own files: read as root)."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not skip(path) and needle.encode() in path.read_bytes():
            found.append(path)
    return found


def stream_features(host: str, port: int, domain: str, *, tls: ssl.SSLContext | None = None,
                    timeout: float = 5.0) -> str:
    """Open a client stream to `domain` and return the raw <stream:features/> the server offers.

    With `tls`, STARTTLS is negotiated first and the features of the encrypted stream are
    returned. The connection is closed afterwards.
    """
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        features = _open(sock, domain)
        if tls is not None:
            sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            _read_until(sock, re.compile(rb"<proceed[^>]*/>|</proceed>"))
            sock = tls.wrap_socket(sock, server_hostname=domain)
            features = _open(sock, domain)
        return features
    finally:
        sock.close()


def auth_without_tls(host: str, port: int, domain: str, mechanism: str, payload: str = "=",
                     timeout: float = 5.0) -> str:
    """Try SASL `mechanism` on an unencrypted stream; return what the server answers (raw)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        _open(sock, domain)
        sock.sendall(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mechanism}'>"
                     f"{payload}</auth>".encode())
        return _read_until(sock, re.compile(rb"</failure>|<failure[^>]*/>|</stream:error>|"
                                            rb"</stream:stream>|<success"), allow_eof=True)
    finally:
        sock.close()


def _open(sock: socket.socket, domain: str) -> str:
    sock.sendall(f"<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' "
                 "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>".encode())
    data = _read_until(sock, re.compile(rb"</stream:features>|<stream:features[^>]*/>"))
    return data[data.index("<stream:features"):]


def _read_until(sock: Any, pattern: re.Pattern[bytes], allow_eof: bool = False) -> str:
    data = b""
    while not pattern.search(data):
        chunk = sock.recv(65536)
        if not chunk:
            if allow_eof:
                break
            raise AssertionError(f"connection closed; received {data[-500:]!r}")
        data += chunk
    return data.decode(errors="replace")


class SessionRefused(Exception):
    """The client's session did not start; the message says why."""


async def connect_tls(jid: str, password: str, port: int, ca_file: Path, *,
                      host: str = "127.0.0.1", timeout: float = 10.0) -> ClientXMPP:
    """A client that only logs in over STARTTLS with a certificate signed by `ca_file`.

    No plaintext fallback, no direct TLS. An empty password and a bare domain as `jid`
    log in anonymously (SASL ANONYMOUS).
    """
    kwargs = {"sasl_mech": "ANONYMOUS"} if not password else {}
    xmpp = ClientXMPP(jid, password, **kwargs)
    xmpp.enable_starttls = True
    xmpp.enable_direct_tls = False
    xmpp.enable_plaintext = False
    xmpp.ca_certs = Path(ca_file)
    for plugin in ("xep_0030", "xep_0045", "xep_0199"):
        xmpp.register_plugin(plugin)
    outcome: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def settle(reason: str | None) -> None:
        if not outcome.done():
            outcome.set_result(reason)

    xmpp.add_event_handler("session_start", lambda _: settle(None))
    xmpp.add_event_handler("failed_all_auth", lambda _: settle("authentication failed"))
    xmpp.add_event_handler("disconnected", lambda _: settle("disconnected"))
    xmpp.add_event_handler("connection_failed", lambda e: settle(f"connection failed: {e}"))
    xmpp.connect(host, port)
    try:
        reason = await asyncio.wait_for(outcome, timeout)
    except asyncio.TimeoutError:
        reason = f"no session within {timeout}s"
    if reason is not None:
        xmpp.abort()
        raise SessionRefused(reason)
    return xmpp


def listening_ports(pid: int) -> set[int]:
    """TCP ports a process listens on (IPv4 and IPv6), from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def process_uid(pid: int) -> int:
    """The real user id a process runs as."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for process {pid}")
