"""Who is who: every refusal is a proper XMPP error, with server-stamped identities."""

from __future__ import annotations

import asyncio

import pytest
from slixmpp.exceptions import IqError

from actors import Stack, error_condition
from xmpp_clients import MUCJoinRefused, join_room

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def refused(coro: object) -> str:
    with pytest.raises(IqError) as info:
        await coro  # type: ignore[misc]
    return error_condition(info.value)


async def test_forged_used_and_expired_tickets(stack: Stack) -> None:
    sid = await stack.session()
    citizen = await stack.citizen()
    assert await refused(citizen.claim("forged-ticket")) == "not-authorized"
    assert await refused(citizen.claim("")) == "not-authorized"
    ticket = await stack.store.issue_ticket(sid)
    await citizen.claim(ticket)
    other = await stack.citizen()
    assert await refused(other.claim(ticket)) == "not-authorized"        # used
    stale = await stack.store.issue_ticket(sid)
    await asyncio.sleep(stack.settings.store.ticket_ttl_seconds + 1)      # 3 s here
    assert await refused(other.claim(stale)) == "not-authorized"          # expired


async def test_agents_cannot_claim_and_guests_cannot_act_as_agents(stack: Stack) -> None:
    agent = await stack.agent("romeo")
    ticket = await stack.store.issue_ticket(await stack.session())
    assert await refused(agent.iq("idchat_claim", ticket=ticket)) == "forbidden"
    guest = await stack.citizen()
    assert await refused(guest.iq("idchat_accept", offer="of-anything")) == "forbidden"
    assert await refused(guest.iq("idchat_decline", offer="of-anything")) == "forbidden"
    assert await refused(guest.iq("idchat_attributes", ptype="get", chat="x")) == "forbidden"
    assert await refused(guest.iq("idchat_end", chat="x")) == "item-not-found"   # has no chat


async def test_guest_presence_as_agent_is_answered_with_an_error(stack: Stack) -> None:
    guest = await stack.citizen()
    errors: list[str] = []
    guest.xmpp.add_event_handler("presence_error", lambda p: errors.append(p["error"]["condition"]))
    pres = guest.xmpp.make_presence(pto=stack.settings.xmpp.component_domain)
    pres["idchat_agent"]["max-chats"] = "5"
    pres.send()
    for _ in range(50):
        if errors:
            break
        await asyncio.sleep(0.1)
    assert errors == ["forbidden"]
    assert not await stack.store.redis.sismember(stack.store.keys.agents(), guest.jid.bare)
    # The control: a real agent's presence does land in that set.
    agent = await stack.agent("romeo")
    await agent.available()
    for _ in range(50):
        if await stack.store.redis.sismember(stack.store.keys.agents(), agent.jid.bare):
            break
        await asyncio.sleep(0.1)
    assert await stack.store.redis.sismember(stack.store.keys.agents(), agent.jid.bare)


async def test_a_guest_cannot_claim_a_second_session(stack: Stack) -> None:
    guest = await stack.citizen()
    await guest.claim(await stack.store.issue_ticket(await stack.session()))
    second = await stack.store.issue_ticket(await stack.session())
    assert await refused(guest.claim(second)) == "conflict"
    other = await stack.citizen()                     # the refusal changed nothing:
    assert (await other.claim(second))["state"] == "queued"   # the ticket still works


async def test_a_guest_cannot_join_another_sessions_room(stack: Stack) -> None:
    owner = await stack.citizen()
    claimed = await owner.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    intruder = await stack.citizen()
    with pytest.raises(MUCJoinRefused) as info:
        await join_room(intruder.xmpp, claimed["room"], "Inwoner")
    assert info.value.condition == "registration-required"


async def test_an_agent_cannot_end_or_read_a_chat_that_is_not_theirs(stack: Stack) -> None:
    citizen = await stack.citizen()
    claimed = await citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    romeo, mercutio = await stack.agent("romeo"), await stack.agent("mercutio")
    await romeo.available()
    await romeo.accept(await romeo.wait_for("idchat_offer"))
    assert await refused(mercutio.iq("idchat_end", chat=claimed["chat"])) == "forbidden"
    assert await refused(mercutio.iq("idchat_end", chat="no-such-chat")) == "item-not-found"
    assert await refused(mercutio.iq("idchat_accept", offer="of-forged")) == "item-not-found"
    assert await stack.gateway.router.chat(claimed["chat"]) is not None   # nothing changed


async def test_bad_max_chats_is_refused(stack: Stack) -> None:
    agent = await stack.agent("benvolio")
    errors: list[str] = []
    agent.xmpp.add_event_handler("presence_error", lambda p: errors.append(p["error"]["condition"]))
    await agent.available(max_chats=0)
    for _ in range(50):
        if errors:
            break
        await asyncio.sleep(0.1)
    assert errors == ["bad-request"]
