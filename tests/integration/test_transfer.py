"""§12 transfer on the real servers: to a colleague (declined, missed, accepted) and to
the front of another topic's queue; the details move with the chat and the previous
agent loses the room and the card; every way a chat can end while a transfer is out
releases everything. Also XEP-0085 chat states through the room, both ways."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from slixmpp import JID
from slixmpp.exceptions import IqError

from actors import Agent, Citizen, Stack, error_condition, form_values
from tokenlab import ATTRS
from xmpp_clients import join_room

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

NOTE = "Wil per 1 december verhuizen; vraag over parkeervergunning."
CHATSTATES = "http://jabber.org/protocol/chatstates"


async def until(predicate: Any, what: str, timeout: float = 8.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.1)


async def numbers(stack: Stack, bare: str) -> tuple[int, int]:
    _, _, load, pending = (await stack.gateway.router.agent_figures([bare]))[0]
    return load, pending


async def refused(call: Any) -> str:
    with pytest.raises(IqError) as caught:
        await call
    return error_condition(caught.value)


async def transfer(who: Agent, chat: str, note: str = "", **target: str) -> Any:
    iq = who.xmpp.make_iq(ito=who.component, itype="set")
    el = iq["idchat_transfer"]
    el["chat"] = chat
    for k, v in target.items():
        el[k] = v
    if note:
        el["note"] = note
    return await iq.send(timeout=8)


def watch_removal(actor: Agent, room: str) -> list[Any]:
    """Collects the room's word that this occupant was removed by an affiliation change
    (XEP-0045 §9.4: unavailable presence with status 321)."""
    seen: list[Any] = []

    def on_presence(pres: Any) -> None:
        if pres["from"].bare == room and pres["type"] == "unavailable" and \
                "321" in [s.get("code") for s in pres.xml.iter("{http://jabber.org/protocol/muc#user}status")]:
            seen.append(pres)
    actor.xmpp.add_event_handler("groupchat_presence", on_presence)
    return seen


async def assigned_chat(stack: Stack, romeo: Agent) -> tuple[Citizen, str, str]:
    sid = await stack.session(session_url=None)
    citizen = await stack.citizen()
    await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    offer = await romeo.wait_for("idchat_offer", lambda o: o["chat"] and o["from-agent"] == "")
    room = await romeo.accept(offer)
    return citizen, offer["chat"], room


async def test_a_chat_goes_to_a_colleague_then_to_another_topic(stack: Stack) -> None:
    router, redis, keys = stack.gateway.router, stack.store.redis, stack.store.keys
    romeo, mercutio = await stack.agent("romeo"), await stack.agent("mercutio")
    r_bare, m_bare = romeo.jid.bare, mercutio.jid.bare
    await romeo.available(max_chats=2)
    citizen, cid, room = await assigned_chat(stack, romeo)
    removals = {romeo: watch_removal(romeo, room), mercutio: watch_removal(mercutio, room)}
    await citizen.say(room, "Ik ga verhuizen")
    await romeo.say(room, "Waarheen?")
    await romeo.wait_for_room("Ik ga verhuizen")
    await mercutio.available(max_chats=1)

    # Who can take it: the colleagues on duty, with room, never oneself.
    await until(lambda: redis.sismember(keys.agents(), m_bare), "mercutio on duty")
    listed = (await romeo.iq("idchat_colleagues", "get"))["idchat_colleagues"]["colleague_list"]
    assert [(c["jid"], c["nick"], c["free"]) for c in listed] == [(m_bare, "mercutio", "1")]

    # Bad requests change nothing.
    assert await refused(transfer(romeo, cid)) == "bad-request"
    assert await refused(transfer(romeo, cid, agent=m_bare, purpose="request_permit")) == "bad-request"
    assert await refused(transfer(romeo, cid, "x" * 501, agent=m_bare)) == "bad-request"
    assert await refused(transfer(romeo, cid, agent=r_bare)) == "bad-request"
    assert await refused(transfer(romeo, cid, agent="benvolio@" + stack.settings.xmpp.agent_domain)) \
        == "recipient-unavailable"                              # not on duty
    assert await refused(transfer(mercutio, cid, agent=r_bare)) == "forbidden"
    assert await refused(transfer(romeo, "0" * 32, agent=m_bare)) == "item-not-found"
    assert await refused(transfer(romeo, cid, purpose="no_such_topic")) == "item-not-found"
    assert await refused(citizen.iq("idchat_colleagues", "get")) == "forbidden"
    chat = await router.chat(cid)
    assert chat is not None and (chat.state, chat.agent, chat.transfer_to) == ("assigned", r_bare, "")
    assert await numbers(stack, r_bare) == (1, 0) and await numbers(stack, m_bare) == (0, 0)

    # 1. Declined: the chat stays with Romeo, who hears so.
    await transfer(romeo, cid, NOTE, agent=m_bare)
    offer = await mercutio.wait_for("idchat_offer", lambda o: o["chat"] == cid)
    assert offer["from-agent"] == "romeo" and offer["purpose"] == "report_move"
    assert NOTE not in str(offer) and ATTRS["fullname"] not in str(offer)
    assert await numbers(stack, m_bare) == (0, 1)               # counts against capacity
    assert await refused(transfer(romeo, cid, agent=m_bare)) == "conflict"
    assert await refused(transfer(romeo, cid, purpose="request_permit")) == "conflict"
    await mercutio.iq("idchat_decline", offer=offer["id"])
    told = await romeo.wait_for("idchat_transferred", lambda t: t["outcome"] == "declined")
    assert (told["chat"], told["agent"]) == (cid, "mercutio")
    assert await numbers(stack, m_bare) == (0, 0) and await numbers(stack, r_bare) == (1, 0)
    assert not await redis.zcard(keys.transfers())

    # 2. Missed: the offer runs out (2 s here), is revoked, and the chat stays.
    await transfer(romeo, cid, NOTE, agent=m_bare)
    missed = await mercutio.wait_for("idchat_offer", lambda o: o["chat"] == cid and o["id"] != offer["id"])
    revoked = await mercutio.wait_for("idchat_revoke", lambda r: r["offer"] == missed["id"])
    assert revoked["reason"] == "timeout"
    await romeo.wait_for("idchat_transferred", lambda t: t["outcome"] == "timeout")
    assert await numbers(stack, m_bare) == (0, 0)
    assert await refused(mercutio.iq("idchat_accept", offer=missed["id"])) == "item-not-found"

    # 2b. Taken back by Romeo before Mercutio answers; only a transfer that is out can be.
    stack.gateway.router.offer_timeout_ms = 30_000
    await transfer(romeo, cid, NOTE, agent=m_bare)
    recalled = await mercutio.wait_for("idchat_offer", lambda o: o["chat"] == cid
                                       and o["id"] not in (offer["id"], missed["id"]))
    assert await refused(transfer(romeo, cid, withdraw="true", agent=m_bare)) == "bad-request"
    assert await refused(transfer(mercutio, cid, withdraw="true")) == "forbidden"
    await transfer(romeo, cid, withdraw="true")
    assert (await mercutio.wait_for("idchat_revoke", lambda r: r["offer"] == recalled["id"]))["reason"] \
        == "withdrawn"
    assert await numbers(stack, m_bare) == (0, 0) and await numbers(stack, r_bare) == (1, 0)
    assert await refused(transfer(romeo, cid, withdraw="true")) == "item-not-found"
    assert await refused(mercutio.iq("idchat_accept", offer=recalled["id"])) == "item-not-found"

    # 3. Accepted: the details and the note go to Mercutio, who reads the conversation so far;
    # Romeo leaves the room and cannot fetch the details any more.
    await transfer(romeo, cid, NOTE, agent=m_bare)
    taken = await mercutio.wait_for("idchat_offer", lambda o: o["chat"] == cid
                                    and o["id"] not in (offer["id"], missed["id"], recalled["id"]))
    accepted_at = len(mercutio.headlines)
    await mercutio.iq("idchat_accept", offer=taken["id"])
    await join_room(mercutio.xmpp, room, "Mercutio", history=50)  # as Converse does
    attrs = await mercutio.wait_for("idchat_attributes", lambda a: a["chat"] == cid, after=accepted_at)
    values = form_values(attrs["form"])
    assert values["attr:fullname"] == ATTRS["fullname"] and values["transferred_by"] == "romeo"
    assert values["transfer_note"] == NOTE
    assert (await mercutio.wait_for_room("Ik ga verhuizen"))["from"].resource == "Inwoner"
    await mercutio.wait_for_room("Waarheen?")
    told = await romeo.wait_for("idchat_transferred", lambda t: t["outcome"] == "accepted")
    assert told["agent"] == "mercutio"
    status = await citizen.wait_for("idchat_status", lambda s: s["transferred"] == "true")
    assert (status["state"], status["agent"]) == ("assigned", "mercutio")
    assert await refused(romeo.iq("idchat_attributes", "get", chat=cid)) == "forbidden"
    assert await refused(romeo.iq("idchat_end", chat=cid)) == "forbidden"
    await until(lambda: removals[romeo], "Romeo removed from the room (XEP-0045 status 321)")
    assert not removals[mercutio]
    assert await numbers(stack, r_bare) == (0, 0) and await numbers(stack, m_bare) == (1, 0)
    assert await router.agent_chats(r_bare) == [] and await router.agent_chats(m_bare) == [cid]
    again = (await mercutio.iq("idchat_attributes", "get", chat=cid))["idchat_attributes"]
    assert form_values(again["form"])["transfer_note"] == NOTE   # after a console reload too
    await mercutio.say(room, "Ik help u verder.")
    await citizen.wait_for_room("Ik help u verder.")

    # 4. To another topic: the front of its queue, before a citizen already waiting there.
    await romeo.available(max_chats=2, show="away")
    other = await stack.session(purpose="request_permit")
    waiting = await stack.citizen()
    await waiting.claim_and_join(await stack.store.issue_ticket(other))
    await transfer(mercutio, cid, "Graag door naar vergunningen.", purpose="request_permit")
    told = await mercutio.wait_for("idchat_transferred", lambda t: t["outcome"] == "queued")
    assert told["purpose"] == "request_permit"
    status = await citizen.wait_for("idchat_status", lambda s: s["state"] == "queued")
    assert status["transferred"] == "true" and status["position"] == "1"
    assert await router.queued("request_permit") == [cid, (await stack.store.chat_of(other))]
    assert (await numbers(stack, m_bare))[0] == 0
    await until(lambda: removals[mercutio], "Mercutio removed from the room")
    # The next agent gets the note of the last hand-over; Mercutio, who handed it on, is
    # not offered it straight back.
    handed_on_at = len(mercutio.headlines)
    benvolio = await stack.agent("benvolio")
    await benvolio.available(max_chats=1)
    offer = await benvolio.wait_for("idchat_offer", lambda o: o["chat"] == cid)
    at = len(benvolio.headlines)
    await benvolio.iq("idchat_accept", offer=offer["id"])
    await join_room(benvolio.xmpp, room, "Benvolio", history=50)
    attrs = await benvolio.wait_for("idchat_attributes", lambda a: a["chat"] == cid, after=at)
    values = form_values(attrs["form"])
    assert values["transferred_by"] == "mercutio" and values["purpose"] == "request_permit"
    assert values["transfer_note"] == "Graag door naar vergunningen."
    await benvolio.wait_for_room("Ik help u verder.")
    assert not [h for h in mercutio.headlines[handed_on_at:] if h["idchat_offer"]["chat"] == cid]

    # The audit log: who handed it to whom, the attribute names, never a value or the note.
    events = [json.loads(line) for line in stack.audit_file.read_text().splitlines()]
    moves = [e for e in events if e["event"] == "chat-transferred"]
    assert [(e["agent"], e["to_agent"], e["to_purpose"]) for e in moves] == \
        [(r_bare, m_bare, ""), (m_bare, "", "request_permit")]
    assert all(e["attribute_names"] == sorted(ATTRS) for e in moves)
    text = stack.audit_file.read_text()
    assert NOTE not in text and all(v not in text for v in ATTRS.values())
    # The note is kept encrypted in Redis, never in clear.
    raw = await redis.hget(keys.chat(cid), "transfer_note")
    assert raw and b"vergunningen" not in raw


async def test_every_end_during_a_transfer_releases_everything(stack: Stack) -> None:
    """Agent ends, citizen ends, idle timeout, a lost record, and the sender's connection
    gone past the grace: each while a colleague is being offered the chat."""
    router, redis, keys, chats = stack.gateway.router, stack.store.redis, stack.store.keys, stack.gateway.chats
    router.offer_timeout_ms = 60_000
    romeo, mercutio = await stack.agent("romeo"), await stack.agent("mercutio")
    r_bare, m_bare = romeo.jid.bare, mercutio.jid.bare
    await romeo.available(max_chats=5)

    async def pending_transfer() -> tuple[str, str, JID]:
        # Mercutio away while Romeo takes the chat; then on duty with one place, which the
        # transfer offer fills (so no other chat is offered to him meanwhile).
        await mercutio.available(max_chats=1, show="away")
        await until(lambda: _not_member(redis, keys.agents(), m_bare), "mercutio away")
        ticket = await stack.store.issue_ticket(await stack.session())
        guest = JID(f"g{secrets.token_hex(4)}@{stack.settings.xmpp.guest_domain}/page")
        chat, position, interrupted, _, dispatched = await chats.claim(guest, ticket)
        await chats.after_claim(chat, position, interrupted, dispatched=dispatched)
        offer = await romeo.wait_for("idchat_offer", lambda o: o["chat"] == chat.id)
        await romeo.iq("idchat_accept", offer=offer["id"])
        await mercutio.available(max_chats=1)
        await until(lambda: redis.sismember(keys.agents(), m_bare), "mercutio on duty")
        await transfer(romeo, chat.id, NOTE, agent=m_bare)
        made = await mercutio.wait_for("idchat_offer", lambda o: o["chat"] == chat.id)
        # The controls: what the end must release is there.
        assert (await router.chat(chat.id)).transfer_to == m_bare  # type: ignore[union-attr]
        assert await numbers(stack, m_bare) == (0, 1)
        assert await redis.exists(keys.offer(made["id"]))
        return chat.id, made["id"], guest

    async def released(cid: str, oid: str, *, back_in_queue: bool = False, lost: bool = False) -> None:
        async def settled() -> bool:
            if await redis.zscore(keys.transfers(), cid) is not None:
                return False
            if not lost and await redis.exists(keys.offer(oid)):
                return False  # (a lost record names no offer: that key runs out by itself)
            return back_in_queue or await numbers(stack, m_bare) == (0, 0)
        await until(settled, "the transfer offer released")
        chat = await router.chat(cid)
        if back_in_queue:  # waiting again (perhaps offered anew to Mercutio, who has room now)
            assert chat is not None and chat.state in ("queued", "offered") and not chat.transfer_to
        else:
            await until(lambda: _gone(stack, cid), "every record of the chat gone")

    # The agent ends it: the colleague's offer is revoked with the chat.
    cid, oid, _ = await pending_transfer()
    await romeo.iq("idchat_end", chat=cid)
    assert (await mercutio.wait_for("idchat_revoke", lambda r: r["offer"] == oid))["reason"] == "ended"
    await released(cid, oid)

    # The citizen ends it.
    cid, oid, guest = await pending_transfer()
    await chats.end_by_citizen(guest)
    await mercutio.wait_for("idchat_revoke", lambda r: r["offer"] == oid)
    await released(cid, oid)

    # Idle past its deadline: the sweeper ends it.
    cid, oid, _ = await pending_transfer()
    await redis.zadd(keys.lives(), {cid: 0})
    await mercutio.wait_for("idchat_revoke", lambda r: r["offer"] == oid)
    await released(cid, oid)

    # The chat's record is lost: forgotten, and the colleague's count recounted.
    cid, oid, _ = await pending_transfer()
    await redis.delete(keys.chat(cid))
    await released(cid, oid, lost=True)  # the sweeper forgets it and recounts

    # The sender's connection is gone past the grace: the chat goes back to the queue and
    # the colleague's offer is withdrawn.
    cid, oid, _ = await pending_transfer()
    await romeo.available(max_chats=5, show="away")  # so that it is not offered straight back
    await chats.agent_gone(r_bare)
    assert (await mercutio.wait_for("idchat_revoke", lambda r: r["offer"] == oid))["reason"] == "withdrawn"
    await released(cid, oid, back_in_queue=True)
    assert await numbers(stack, r_bare) == (0, 0)


async def _not_member(redis: Any, key: str, member: str) -> bool:
    return not await redis.sismember(key, member)


async def _gone(stack: Stack, cid: str) -> bool:
    keys = stack.store.keys
    return (not await stack.store.redis.exists(keys.chat(cid))
            and await stack.store.redis.zscore(keys.lives(), cid) is None)


async def test_typing_passes_through_the_room_both_ways(stack: Stack) -> None:
    """XEP-0085: the citizen's and the agent's chat states reach the other through the room
    (and the guest fences); the component, an occupant too, drops them at the door."""
    romeo = await stack.agent("romeo")
    await romeo.available(max_chats=1)
    citizen, _cid, room = await assigned_chat(stack, romeo)
    seen: dict[str, list[str]] = {"romeo": [], "citizen": []}
    for name, actor in (("romeo", romeo), ("citizen", citizen)):
        def incoming(st: Any, name: str = name) -> Any:
            if st.xml.tag.endswith("}message") and st.xml.get("type") == "groupchat" and \
                    st.xml.find(f"{{{CHATSTATES}}}composing") is not None:
                seen[name].append(st["from"].resource)
            return st
        actor.xmpp.add_filter("in", incoming)  # (slixmpp raises no message event for these)
    before = stack.gateway.admission.chat_states

    def typing(actor: Any) -> None:
        msg = actor.xmpp.make_message(mto=JID(room), mtype="groupchat")
        msg.xml.append(ET.Element(f"{{{CHATSTATES}}}composing"))
        msg.send()

    typing(citizen)
    await until(lambda: "Inwoner" in seen["romeo"], "the agent sees the citizen typing")
    typing(romeo)
    await until(lambda: "Romeo" in seen["citizen"], "the citizen sees the agent typing")
    await until(lambda: stack.gateway.admission.chat_states >= before + 2,
                "the component dropped both at the door")
