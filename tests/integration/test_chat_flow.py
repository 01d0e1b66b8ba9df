"""One whole chat on the real Prosody and Redis: claim, queue, offer, accept,
attributes to the agent only, messages, end, purge, audit."""

from __future__ import annotations

import json

import pytest

from actors import Stack, form_values
from tokenlab import ATTRS
from xmpp_plugin.errors import NotFound

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_full_chat(stack: Stack) -> None:
    sid = await stack.session(session_url=None)
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    assert claimed["state"] == "queued" and claimed["position"] == "1"
    assert claimed["room"].endswith("@" + stack.settings.xmpp.muc_domain)

    agent = await stack.agent("romeo")
    await agent.available(max_chats=2)
    offer = await agent.wait_for("idchat_offer")
    assert offer["purpose"] == "report_move" and offer["timeout"] == "2"
    assert offer["chat"] in str(offer)                       # the control: str() shows the offer
    assert sid not in str(offer)                             # no session id, no personal data
    for value in ATTRS.values():
        assert value not in str(offer)
    room = await agent.accept(offer)
    assert room == claimed["room"]

    status = await citizen.wait_for("idchat_status", lambda s: s["state"] == "assigned")
    assert status["agent"] == "romeo"                        # a display name, never a JID
    attrs = await agent.wait_for("idchat_attributes")
    values = form_values(attrs["form"])
    assert values["FORM_TYPE"] == "https://idchat.nl/protocol/attributes/1"
    assert values["status"] == "verified" and values["purpose"] == "report_move"
    assert {k: v for k, v in values.items() if k.startswith("attr:")} == \
        {f"attr:{k}": v for k, v in ATTRS.items()}
    assert attrs["form"].get_fields()["attr:bsn"]["label"] == "BSN"

    await citizen.say(room, "Ik ga verhuizen")
    await agent.say(room, "Waarheen?")
    assert (await agent.wait_for_room("Ik ga verhuizen"))["from"].resource == "Inwoner"
    assert (await citizen.wait_for_room("Waarheen?"))["from"].resource == "Romeo"

    # The controls for the absences below: the chat and its room exist until the end.
    assert await stack.gateway.router.chat(offer["chat"]) is not None
    assert await stack.gateway.chats.rooms.exists(offer["chat"])
    await agent.iq("idchat_end", chat=offer["chat"])
    ended = await citizen.wait_for("idchat_status", lambda s: s["state"] == "ended")
    assert ended["by"] == "agent"
    assert await stack.gateway.router.chat(offer["chat"]) is None
    assert not await stack.gateway.chats.rooms.exists(offer["chat"])
    with pytest.raises(NotFound):                             # session and attributes purged
        await stack.store.get(sid)

    events = [json.loads(line) for line in stack.audit_file.read_text().splitlines()]
    delivered = [e for e in events if e["event"] == "attributes-delivered"]
    assert delivered and delivered[0]["agent"] == "romeo@agents.idchat.localhost"
    assert delivered[0]["attribute_names"] == sorted(ATTRS)
    assert any(e["event"] == "chat-ended" and e["by"] == "agent" for e in events)
    for value in ATTRS.values():
        assert value not in stack.audit_file.read_text()
