"""The shipped Prosody configuration, checked against a real Prosody.

Starts prosody/prosody.cfg.lua through scripts/prosody_server.py in a
temporary folder on free ports and proves with slixmpp clients that:
only the component creates rooms, rooms are members-only, guests are
anonymous, agents log in with passwords, a wrong component secret is refused,
WebSocket is served for both hosts, and a chat leaves nothing on disk.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import aiohttp
import pytest
from slixmpp import JID
from slixmpp.exceptions import IqError

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
for _path in (HERE, PROJECT_ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from component.rooms import PRIVATE_ROOM, new_chat_id  # noqa: E402
from disk_scan import assert_nothing_on_disk, marker, plant_in_roster  # noqa: E402
from prosody_server import ProsodyError, ProsodyServer  # noqa: E402
from xmpp_clients import (  # noqa: E402
    PRIVACY_FIELDS,
    MUCJoinRefused,
    XMPPConnectError,
    close,
    config_differences,
    connect_agent,
    connect_component,
    connect_guest,
    create_room,
    join_room,
    server_defaults,
)

AGENT_DOMAIN = "agents.idchat.localhost"
GUEST_DOMAIN = "guest.idchat.localhost"
MUC_DOMAIN = "rooms.idchat.localhost"
COMPONENT_DOMAIN = "component.idchat.localhost"
EXTERNAL_ORIGIN = "http://127.0.0.1:18002"


def free_ports(count: int) -> list[int]:
    """Ports that are free right now (kept bound together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def prosody_env() -> dict[str, str]:
    c2s, component, http = free_ports(3)
    return {
        "IDCHAT_XMPP_AGENT_DOMAIN": AGENT_DOMAIN,
        "IDCHAT_XMPP_GUEST_DOMAIN": GUEST_DOMAIN,
        "IDCHAT_XMPP_MUC_DOMAIN": MUC_DOMAIN,
        "IDCHAT_XMPP_COMPONENT_DOMAIN": COMPONENT_DOMAIN,
        "IDCHAT_XMPP_COMPONENT_SECRET": secrets.token_urlsafe(24),
        "IDCHAT_XMPP_C2S_PORT": str(c2s),
        "IDCHAT_XMPP_COMPONENT_PORT": str(component),
        "IDCHAT_XMPP_HTTP_PORT": str(http),
        "IDCHAT_HTTP_EXTERNAL_URL": EXTERNAL_ORIGIN + "/some/path",
    }


@pytest.fixture(scope="module")
def prosody(tmp_path_factory: pytest.TempPathFactory):
    server = ProsodyServer(tmp_path_factory.mktemp("prosody"), prosody_env())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def secret_of(server: ProsodyServer) -> str:
    return server.env["IDCHAT_XMPP_COMPONENT_SECRET"]


# Prosody offers the history length in the room form too: the product's 50 must hold.
PROSODY_REQUIRED = (*PRIVACY_FIELDS, "muc#roomconfig_historylength")


def new_room() -> JID:
    """A room JID as the product names its rooms (the chat id as local part)."""
    return JID(f"{new_chat_id()}@{MUC_DOMAIN}")


async def room_exists(component, room: JID, owner: JID) -> bool:
    try:
        await component.plugin["xep_0030"].get_info(jid=room, ifrom=owner, timeout=5)
    except IqError as exc:
        assert exc.condition == "item-not-found", exc.condition
        return False
    return True


@pytest.mark.timeout(20)
async def test_component_creates_configures_and_destroys_members_only_room(prosody):
    component = await connect_component(COMPONENT_DOMAIN, secret_of(prosody), prosody.component_port)
    member = await connect_guest(GUEST_DOMAIN, prosody.c2s_port)
    outsider = await connect_guest(GUEST_DOMAIN, prosody.c2s_port)
    try:
        owner = JID(COMPONENT_DOMAIN)
        room = new_room()
        muc = component.plugin["xep_0045"]

        held = await create_room(component, room, owner=owner)   # the product's own Rooms.create
        # Prosody accepted every field of the product's PRIVATE_ROOM that it offers.
        assert config_differences(held, PROSODY_REQUIRED) == {}
        assert str(held["muc#roomconfig_historylength"]) == PRIVATE_ROOM["muc#roomconfig_historylength"]

        info = await component.plugin["xep_0030"].get_info(jid=room, ifrom=owner, timeout=5)
        features = set(info["disco_info"]["features"])
        assert {"muc_membersonly", "muc_hidden", "muc_temporary"} <= features

        await muc.set_affiliation(room, "member", jid=member.boundjid.bare, ifrom=owner, timeout=5)
        members = await muc.get_affiliation_list(room, "member", ifrom=owner, timeout=5)
        assert JID(member.boundjid.bare) in [JID(m) for m in members]

        # The member gets in; a guest that is not a member does not.
        await join_room(member, room, "citizen")
        with pytest.raises(MUCJoinRefused) as refused:
            await join_room(outsider, room, "intruder")
        assert refused.value.condition == "registration-required"

        await muc.destroy(room, reason="chat ended", ifrom=owner, timeout=5)
        assert not await room_exists(component, room, owner)
    finally:
        for xmpp in (outsider, member, component):
            await close(xmpp)


@pytest.mark.timeout(20)
async def test_room_defaults_of_the_muc_section_are_the_products_room(prosody):
    """muc_room_default_* in prosody.cfg.lua: a room is private before the product's
    configuration arrives, with the history length the product asks for."""
    component = await connect_component(COMPONENT_DOMAIN, secret_of(prosody), prosody.component_port)
    try:
        defaults = await server_defaults(component, new_room())
    finally:
        await close(component)
    differences = config_differences(defaults, PROSODY_REQUIRED)
    assert {var: d for var, d in differences.items() if var in PROSODY_REQUIRED} == {}, differences


@pytest.mark.timeout(20)
async def test_guest_is_anonymous_and_cannot_create_rooms(prosody):
    guest = await connect_guest(GUEST_DOMAIN, prosody.c2s_port)
    other = await connect_guest(GUEST_DOMAIN, prosody.c2s_port)
    component = await connect_component(COMPONENT_DOMAIN, secret_of(prosody), prosody.component_port)
    try:
        # Server-assigned, random JIDs on the guest host.
        assert guest.boundjid.domain == GUEST_DOMAIN
        assert guest.boundjid.user and guest.boundjid.resource
        assert guest.boundjid.user != other.boundjid.user

        room = new_room()
        with pytest.raises(MUCJoinRefused) as refused:
            await join_room(guest, room, "guest")
        assert refused.value.condition == "not-allowed"
        assert not await room_exists(component, room, JID(COMPONENT_DOMAIN))
    finally:
        for xmpp in (component, other, guest):
            await close(xmpp)


@pytest.mark.timeout(20)
async def test_agent_account_logs_in_with_password(prosody):
    user = f"agent-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    prosody.register(user, AGENT_DOMAIN, password)

    agent = await connect_agent(f"{user}@{AGENT_DOMAIN}", password, prosody.c2s_port)
    try:
        assert agent.boundjid.bare == f"{user}@{AGENT_DOMAIN}"
    finally:
        await close(agent)

    with pytest.raises(XMPPConnectError, match="authentication failed"):
        await connect_agent(f"{user}@{AGENT_DOMAIN}", password + "x", prosody.c2s_port)
    # The guest host has no accounts: it offers only SASL ANONYMOUS, so a
    # login with a name either fails or ends up as a random anonymous JID.
    try:
        impostor = await connect_agent(f"{user}@{GUEST_DOMAIN}", password, prosody.c2s_port)
    except XMPPConnectError:
        pass
    else:
        try:
            assert impostor.boundjid.user != user
        finally:
            await close(impostor)


@pytest.mark.timeout(20)
async def test_component_with_wrong_secret_is_refused(prosody):
    with pytest.raises(XMPPConnectError, match="not-authorized"):
        await connect_component(COMPONENT_DOMAIN, "not-the-secret", prosody.component_port)
    # The right secret still works afterwards.
    component = await connect_component(COMPONENT_DOMAIN, secret_of(prosody), prosody.component_port)
    await close(component)


@pytest.mark.timeout(20)
async def test_websocket_serves_both_hosts_with_cors_for_our_origin(prosody):
    url = f"http://127.0.0.1:{prosody.http_port}/xmpp-websocket"
    async with aiohttp.ClientSession() as http:
        async with http.options(url, headers={"Origin": EXTERNAL_ORIGIN}) as response:
            assert response.headers.get("Access-Control-Allow-Origin") == EXTERNAL_ORIGIN
        async with http.options(url, headers={"Origin": "https://evil.example"}) as response:
            assert "Access-Control-Allow-Origin" not in response.headers

        for domain, mechanism in ((GUEST_DOMAIN, "ANONYMOUS"), (AGENT_DOMAIN, "SCRAM-SHA-1")):
            async with http.ws_connect(url, protocols=("xmpp",), timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
                await ws.send_str(
                    f'<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="{domain}" version="1.0"/>'
                )
                opened = ET.fromstring(await ws.receive_str(timeout=5))
                assert opened.get("from") == domain
                features = await ws.receive_str(timeout=5)
                assert f"<mechanism>{mechanism}</mechanism>" in features


@pytest.mark.timeout(30)
async def test_chat_leaves_nothing_on_disk(tmp_path):
    server = ProsodyServer(tmp_path, prosody_env())
    server.start()
    text = f"secret question {secrets.token_hex(12)}"
    room = new_room()
    # Positive controls: an account (a file named after it) and a roster item (in a file)
    # that Prosody writes to disk, so the scan below is shown to see what Prosody stores.
    agent_user, agent_password = marker(), secrets.token_urlsafe(16)
    server.register(agent_user, AGENT_DOMAIN, agent_password)
    try:
        owner = JID(COMPONENT_DOMAIN)
        component = await connect_component(COMPONENT_DOMAIN, secret_of(server), server.component_port)
        guest = await connect_guest(GUEST_DOMAIN, server.c2s_port)
        agent = await connect_agent(f"{agent_user}@{AGENT_DOMAIN}", agent_password, server.c2s_port)
        try:
            await create_room(component, room, owner=owner)
            muc = component.plugin["xep_0045"]
            await muc.set_affiliation(room, "member", jid=guest.boundjid.bare, ifrom=owner, timeout=5)
            await join_room(guest, room, "citizen")

            received: asyncio.Future = asyncio.get_running_loop().create_future()

            def on_message(msg):
                if msg["body"] == text and not received.done():
                    received.set_result(msg)

            component.add_event_handler(f"muc::{room}::message", on_message)
            message = guest.make_message(mto=room, mbody=text, mtype="groupchat")
            message.append(ET.Element("{urn:xmpp:hints}no-store"))
            message.send()
            await asyncio.wait_for(received, 5)
            roster_marker = await plant_in_roster(agent)
        finally:
            # Stop with the room still alive: a live room must not be saved.
            for xmpp in (agent, guest, component):
                await close(xmpp)
    finally:
        server.stop()

    assert not server.is_running()
    assert_nothing_on_disk(tmp_path, [text, text.split()[-1], room.user],
                           planted=[agent_user, roster_marker], expect_files=["prosody.log"])


@pytest.mark.timeout(30)
async def test_restart_keeps_agent_accounts_and_forgets_rooms(tmp_path):
    server = ProsodyServer(tmp_path, prosody_env())
    server.start()
    try:
        user, password = "agent-restart", secrets.token_urlsafe(16)
        server.register(user, AGENT_DOMAIN, password)
        owner = JID(COMPONENT_DOMAIN)
        room = new_room()
        component = await connect_component(COMPONENT_DOMAIN, secret_of(server), server.component_port)
        try:
            await create_room(component, room, owner=owner)
        finally:
            await close(component)

        server.restart()
        assert server.is_running()

        component = await connect_component(COMPONENT_DOMAIN, secret_of(server), server.component_port)
        try:
            assert not await room_exists(component, room, owner)  # rooms live in memory only
        finally:
            await close(component)
        agent = await connect_agent(f"{user}@{AGENT_DOMAIN}", password, server.c2s_port)
        await close(agent)  # accounts are on disk
    finally:
        server.stop()


@pytest.mark.timeout(20)
def test_missing_component_secret_stops_prosody(tmp_path):
    env = prosody_env()
    del env["IDCHAT_XMPP_COMPONENT_SECRET"]
    server = ProsodyServer(tmp_path, env)
    with pytest.raises(ProsodyError, match="IDCHAT_XMPP_COMPONENT_SECRET is not set"):
        server.start(timeout=10)
    assert not server.is_running()
