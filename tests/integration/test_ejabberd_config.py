"""The shipped ejabberd configuration, checked against a real ejabberd 23.01.

Starts ejabberd/ejabberd.yml through scripts/ejabberd_server.py in a temporary
folder on free ports and proves with slixmpp clients that: the component (and a
second instance of it) connects with its secret and alone creates rooms, which
are members-only and non-persistent by default; guests are anonymous; agents
log in with passwords; a wrong secret is refused; WebSocket is served; and a
chat leaves nothing on disk.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from slixmpp import JID
from slixmpp.exceptions import PresenceError

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent.parent / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from component.rooms import new_chat_id  # noqa: E402
from disk_scan import assert_nothing_on_disk, plant_account, plant_in_roster  # noqa: E402
from ejabberd_clients import (  # noqa: E402
    ConnectionRefused,
    close,
    connect_agent,
    connect_component,
    connect_guest,
    create_room,
    wait_room_gone,
)
from ejabberd_server import EjabberdServer  # noqa: E402
from xmpp_clients import PRIVACY_FIELDS, config_differences, server_defaults  # noqa: E402

AGENT_DOMAIN = "agents.idchat.localhost"
GUEST_DOMAIN = "guest.idchat.localhost"
MUC_DOMAIN = "rooms.idchat.localhost"
COMPONENT_DOMAIN = "component.idchat.localhost"
OWNER = JID(COMPONENT_DOMAIN)  # the component owns rooms under its bare domain
AGENT = JID(f"juliet@{AGENT_DOMAIN}")
AGENT_PASSWORD = "balcony-" + secrets.token_hex(4)

SPREAD_PROBES = 40  # chance that all land on one of two connections: 2**-39

pytestmark = pytest.mark.timeout(30)


def free_ports(count: int) -> list[int]:
    """Distinct ports that are free right now (held together while picking)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture(scope="module")
def ejabberd() -> Iterator[EjabberdServer]:
    # Not pytest's tmp_path: its parents are 0700 root, and the node runs as ejabberd.
    workdir = Path(tempfile.mkdtemp(prefix="idchat-ejabberd-test-"))
    c2s, component, http = free_ports(3)
    server = EjabberdServer(
        workdir,
        {
            "IDCHAT_XMPP_C2S_PORT": str(c2s),
            "IDCHAT_XMPP_COMPONENT_PORT": str(component),
            "IDCHAT_XMPP_HTTP_PORT": str(http),
            "IDCHAT_XMPP_COMPONENT_SECRET": secrets.token_urlsafe(24),
        },
    )
    try:
        server.start(timeout=45)
        server.register(AGENT.user, AGENT.host, AGENT_PASSWORD)
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def port(server: EjabberdServer, name: str) -> int:
    return int(server.settings[f"IDCHAT_XMPP_{name}_PORT"])


def secret(server: EjabberdServer) -> str:
    return str(server.settings["IDCHAT_XMPP_COMPONENT_SECRET"])


def new_room() -> JID:
    """A room JID as the product names its rooms (the chat id as local part)."""
    return JID(f"{new_chat_id()}@{MUC_DOMAIN}")


async def component_of(server: EjabberdServer):
    return await connect_component(COMPONENT_DOMAIN, secret(server), port(server, "COMPONENT"))


async def test_component_creates_configures_and_destroys_a_room(ejabberd: EjabberdServer) -> None:
    component = await component_of(ejabberd)
    muc = component.plugin["xep_0045"]
    room = new_room()
    try:
        # default_room_options from the config, before the product's configuration:
        defaults = await server_defaults(component, new_room())
        assert {var: d for var, d in config_differences(defaults).items() if var in PRIVACY_FIELDS} == {}
        assert "mam" not in defaults  # no archive can even be switched on

        held = await create_room(component, room, OWNER)   # the product's own Rooms.create
        # ejabberd accepted every field of the product's PRIVATE_ROOM that it offers.
        assert config_differences(held.get_values()) == {}

        await muc.set_affiliation(room, "member", jid=AGENT, ifrom=OWNER)
        assert AGENT in await muc.get_affiliation_list(room, "member", ifrom=OWNER)

        await muc.destroy(room, ifrom=OWNER)
        await wait_room_gone(component, room, OWNER)
    finally:
        await close(component)


async def test_guest_gets_a_server_assigned_jid_and_cannot_create_a_room(ejabberd: EjabberdServer) -> None:
    guest = await connect_guest(GUEST_DOMAIN, port(ejabberd, "C2S"))
    try:
        assert guest.boundjid.host == GUEST_DOMAIN
        assert guest.boundjid.user  # random, chosen by the server
        with pytest.raises(PresenceError) as refused:
            await guest.plugin["xep_0045"].join_muc_wait(new_room(), "citizen", maxstanzas=0, timeout=5)
        assert refused.value.condition == "forbidden"
    finally:
        await close(guest)


async def test_guest_cannot_enter_a_room_without_membership(ejabberd: EjabberdServer) -> None:
    component = await component_of(ejabberd)
    guest = await connect_guest(GUEST_DOMAIN, port(ejabberd, "C2S"))
    room = new_room()
    try:
        await create_room(component, room, OWNER)
        with pytest.raises(PresenceError) as refused:
            await guest.plugin["xep_0045"].join_muc_wait(room, "citizen", maxstanzas=0, timeout=5)
        assert refused.value.condition == "registration-required"
        await component.plugin["xep_0045"].destroy(room, ifrom=OWNER)
    finally:
        await close(guest, component)


async def test_registered_agent_logs_in_with_its_password(ejabberd: EjabberdServer) -> None:
    agent = await connect_agent(str(AGENT), AGENT_PASSWORD, port(ejabberd, "C2S"))
    try:
        assert agent.boundjid.bare == AGENT.bare
        # the agent host keeps the global modules next to its own mod_muc
        await agent.get_roster(timeout=5)
        await agent.plugin["xep_0199"].ping(jid=AGENT_DOMAIN, timeout=5)
    finally:
        await close(agent)
    with pytest.raises(ConnectionRefused):
        await connect_agent(str(AGENT), "wrong-" + AGENT_PASSWORD, port(ejabberd, "C2S"))


async def test_two_component_connections_on_one_domain_are_both_served(ejabberd: EjabberdServer) -> None:
    first = await component_of(ejabberd)
    second = await component_of(ejabberd)  # a second instance: accepted, the first not kicked
    agent = await connect_agent(str(AGENT), AGENT_PASSWORD, port(ejabberd, "C2S"))
    received: list[list[str]] = [[], []]
    for instance, inbox in zip((first, second), received):
        instance.add_event_handler("message", lambda msg, inbox=inbox: inbox.append(msg["body"]))
    try:
        for n in range(SPREAD_PROBES):
            agent.send_message(mto=COMPONENT_DOMAIN, mbody=f"probe {n}", mtype="chat")
        async with asyncio.timeout(5):
            while sum(map(len, received)) < SPREAD_PROBES:
                await asyncio.sleep(0.05)
        # ejabberd spreads stanzas over the connections, so each instance gets some
        assert all(received), [len(inbox) for inbox in received]
    finally:
        await close(agent, first, second)


async def test_wrong_component_secret_is_refused(ejabberd: EjabberdServer) -> None:
    with pytest.raises(ConnectionRefused, match="not-authorized"):
        await connect_component(COMPONENT_DOMAIN, "not-" + secret(ejabberd), port(ejabberd, "COMPONENT"))


def test_the_schedulers_sleep_when_out_of_work(ejabberd: EjabberdServer) -> None:
    """ejabberd/ejabberdctl.cfg reaches the running node: its schedulers (normal and
    dirty) sleep at once instead of spinning for more work (issue 15)."""
    pid = ejabberd._find_beam()
    assert pid is not None
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    pairs = set(zip(argv, argv[1:]))
    assert ("-pa", str(ejabberd.ebin_dir)) in pairs          # positive control: our options
    assert {("-sbwt", "none"), ("-sbwtdcpu", "none"), ("-sbwtdio", "none")} <= pairs, argv


async def test_websocket_endpoint_offers_anonymous_login(ejabberd: EjabberdServer) -> None:
    url = f"ws://127.0.0.1:{port(ejabberd, 'HTTP')}/xmpp-websocket"
    async with aiohttp.ClientSession() as http, http.ws_connect(url, protocols=("xmpp",)) as ws:
        await ws.send_str(
            f'<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="{GUEST_DOMAIN}" version="1.0"/>'
        )
        frames = [await ws.receive_str(timeout=5) for _ in range(2)]  # <open/>, then features
    assert frames[0].startswith("<open")
    assert "<mechanism>ANONYMOUS</mechanism>" in frames[1]


@pytest.mark.timeout(50)
async def test_a_chat_leaves_nothing_in_the_spool(ejabberd: EjabberdServer) -> None:
    component = await component_of(ejabberd)
    guest = await connect_guest(GUEST_DOMAIN, port(ejabberd, "C2S"))
    agent = await connect_agent(str(AGENT), AGENT_PASSWORD, port(ejabberd, "C2S"))
    room = new_room()
    text = "my-secret-" + secrets.token_hex(8)
    try:
        await create_room(component, room, OWNER)
        await component.plugin["xep_0045"].set_affiliation(room, "member", jid=guest.boundjid.bare, ifrom=OWNER)
        await guest.plugin["xep_0045"].join_muc_wait(room, "citizen", maxstanzas=0, timeout=5)
        delivered = asyncio.Event()

        def on_groupchat_message(msg) -> None:
            if msg["body"] == text:
                delivered.set()

        component.add_event_handler("groupchat_message", on_groupchat_message)
        message = guest.make_message(mto=room, mbody=text, mtype="groupchat")
        message.enable("no-store")  # XEP-0334
        message.send()
        await asyncio.wait_for(delivered.wait(), 5)
        # Positive controls: what ejabberd does keep (a roster item, an account) must be found.
        planted = [await plant_in_roster(agent), plant_account(ejabberd, AGENT_DOMAIN)]
    finally:
        await close(agent, guest, component)
    ejabberd.stop()  # the room is still alive: whatever ejabberd flushes at shutdown is on disk now
    try:
        assert_nothing_on_disk(ejabberd.spool_dir, [text, room.user, guest.boundjid.user], planted)
        assert_nothing_on_disk(ejabberd.workdir, [text], planted, expect_files=["ejabberd.log"])
    finally:
        ejabberd.start(timeout=45)  # later tests (and teardown) expect a running server
