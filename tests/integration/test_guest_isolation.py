"""Guests talk to the component and their own room, nothing else (issue 8, item 4).

On both servers, with the shipped (demo/test) configuration and a chat opened the way
the product opens it: a guest's messages, IQs, subscription requests and presence to
an agent and to another guest are refused and never arrive; nothing of the guest lands
in the agent's roster or on disk; room private messages and queries between occupants
are refused. Positive controls: the guest's IQ to the component and its groupchat
message in its room do arrive, and the scans see what they look for.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import pytest
from slixmpp import JID

from actors import Agent, Citizen, Stack
from hostile import Inbox, answer, files_containing, probes, refused, roster_items
from prosody_server import ProsodyServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

GRACE = 0.5  # after a positive control arrived, time for anything that was let through


async def open_chat(stack: Stack) -> tuple[Citizen, Agent, str, str]:
    """A citizen in its room with romeo, as the product does it (claim, offer, accept).

    Returns the citizen, the agent, the room and the citizen's nickname in it.
    """
    sid = await stack.session(session_url=None)
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    agent = await stack.agent("romeo")
    await agent.available(max_chats=1)
    offer = await agent.wait_for("idchat_offer")
    room = await agent.accept(offer)
    assert room == claimed["room"]
    await agent.wait_for("idchat_attributes")  # the component is done with the agent
    return citizen, agent, room, claimed["nick"]


def server_files(stack: Stack) -> tuple[Path, Any]:
    """Where the server keeps its data, and which files there are logs (not data)."""
    if isinstance(stack.server, ProsodyServer):
        return stack.server.data_dir, lambda p: p.suffix in {".log", ".err"}
    return stack.server.spool_dir, lambda p: False


async def test_a_guest_reaches_no_agent_and_no_other_guest(stack: Stack) -> None:
    citizen, agent, room, _ = await open_chat(stack)
    other = await stack.citizen()
    citizen_inbox, agent_inbox, other_inbox = Inbox(citizen.xmpp), Inbox(agent.xmpp), Inbox(other.xmpp)
    # Positive control for the roster read and the disk scan: a contact the agent adds itself.
    control = JID(f"control-{secrets.token_hex(6)}@{stack.settings.xmpp.agent_domain}")
    await agent.xmpp.update_roster(control, name="control", timeout=5)
    try:
        targets = {"the agent": agent.jid.bare, "the agent's session": agent.jid,
                   "another guest": other.jid.bare, "another guest's session": other.jid}
        refusals = {}
        for who, target in targets.items():
            for what, stanza in probes(citizen.xmpp, target, "hallo"):
                refusals[f"{what} to {who}"] = await refused(citizen.xmpp, citizen_inbox, stanza)
            for ns in ("http://jabber.org/protocol/disco#info", "jabber:iq:version"):
                iq = citizen.xmpp.make_iq_get(ito=target, queryxmlns=ns)
                refusals[f"{ns} query to {who}"] = await refused(citizen.xmpp, citizen_inbox, iq)
        assert refusals == {label: "policy-violation" for label in refusals}
        assert len(refusals) == 4 * (5 + 2)

        # Positive controls, sent after every refused stanza: the component answers the
        # guest, and the guest's groupchat message reaches the agent through the room.
        info = citizen.xmpp.make_iq_get(ito=stack.settings.xmpp.component_domain,
                                        queryxmlns="http://jabber.org/protocol/disco#info")
        assert (await answer(citizen.xmpp, citizen_inbox, info))["type"] == "result"
        await citizen.say(room, "Mag ik iets vragen?")
        await agent.wait_for_room("Mag ik iets vragen?")
        await asyncio.sleep(GRACE)

        assert any(s["from"].bare == room and s["body"] == "Mag ik iets vragen?"
                   for s in agent_inbox.stanzas), "the agent's inbox did not record the room message"
        assert agent_inbox.from_bare(citizen.jid) == []
        assert other_inbox.from_bare(citizen.jid) == []

        # Nothing of the guest in the agent's roster (read back from the server) ...
        items = await roster_items(agent.xmpp)
        assert control.bare in items
        assert citizen.jid.bare not in items
        assert await roster_items(other.xmpp) == set()
        # ... nor on disk, where a pending subscription request would be stored.
        root, is_log = server_files(stack)
        assert files_containing(root, control.user, skip=is_log), "the scan does not see roster data"
        assert files_containing(root, citizen.jid.user, skip=is_log) == []
    finally:
        await agent.xmpp.update_roster(control, subscription="remove", timeout=5)


async def test_room_private_messages_and_occupant_queries_are_refused(stack: Stack) -> None:
    citizen, agent, room, nick = await open_chat(stack)
    citizen_inbox, agent_inbox = Inbox(citizen.xmpp), Inbox(agent.xmpp)
    citizen_nick = JID(f"{room}/{nick}")
    agent_nick = JID(f"{room}/{agent.jid.user.capitalize()}")  # Agent.accept's nickname

    refusals = {
        "guest's private message": await refused(
            citizen.xmpp, citizen_inbox,
            citizen.xmpp.make_message(mto=agent_nick, mbody="psst", mtype="chat")),
        "agent's private message": await refused(
            agent.xmpp, agent_inbox,
            agent.xmpp.make_message(mto=citizen_nick, mbody="psst", mtype="chat")),
        "guest's query to the agent": await refused(
            citizen.xmpp, citizen_inbox,
            citizen.xmpp.make_iq_get(ito=agent_nick, queryxmlns="jabber:iq:version")),
        "agent's query to the guest": await refused(
            agent.xmpp, agent_inbox,
            agent.xmpp.make_iq_get(ito=citizen_nick, queryxmlns="jabber:iq:version")),
    }
    if isinstance(stack.server, ProsodyServer):  # mod_firewall on the MUC and the guest host
        expected = dict.fromkeys(refusals, "policy-violation")
    else:  # mod_idchat_guests for the guest, the room's own options for the agent
        expected = {"guest's private message": "policy-violation",
                    "agent's private message": "forbidden",
                    "guest's query to the agent": "not-allowed",
                    "agent's query to the guest": "not-allowed"}
    assert refusals == expected

    # Positive controls: a self-ping (XEP-0410) is still answered, and groupchat
    # messages flow both ways after the refused ones.
    ping = citizen.xmpp.make_iq_get(ito=citizen_nick)
    ping.enable("ping")
    assert (await answer(citizen.xmpp, citizen_inbox, ping))["type"] == "result"
    await citizen.say(room, "Goedemorgen")
    await agent.say(room, "Goedemorgen, waarmee kan ik helpen?")
    await agent.wait_for_room("Goedemorgen")
    await citizen.wait_for_room("Goedemorgen, waarmee kan ik helpen?")
    await asyncio.sleep(GRACE)

    def private(inbox: Inbox, sender: JID) -> list[Any]:
        return [s for s in inbox.stanzas if s["from"] == sender and s.name == "message"
                and s["type"] != "groupchat" and s["type"] != "error"]

    assert any(s["from"] == citizen_nick and s["type"] == "groupchat" for s in agent_inbox.stanzas)
    assert private(agent_inbox, citizen_nick) == []
    assert private(citizen_inbox, agent_nick) == []
    def queries(inbox: Inbox, sender: JID) -> list[Any]:
        return [s for s in inbox.stanzas if s.name == "iq" and s["from"] == sender
                and s["type"] in {"get", "set"}]

    assert queries(agent_inbox, citizen_nick) == []
    assert queries(citizen_inbox, agent_nick) == []
