"""Supervisors' overview (protocol §9) on both servers: asked once and pushed live,
with the queue, the agents and today's figures, and nothing about the citizen; an
agent who is not a supervisor is refused."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from slixmpp.exceptions import IqError

from actors import Stack, error_condition
from tokenlab import ATTRS
from xmpp_plugin.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SUPERVISOR = "mercutio@agents.idchat.localhost"
ROMEO = "romeo@agents.idchat.localhost"


@pytest.fixture
def stack_settings(stack_settings: Settings) -> Settings:
    routing = dataclasses.replace(stack_settings.routing, supervisors=(SUPERVISOR,),
                                  supervisor_push_seconds=1, service_level_seconds=60)
    return dataclasses.replace(stack_settings, routing=routing)


def queue_of(overview: Any, purpose: str) -> Any:
    return next((q for q in overview["queues"] if q["purpose"] == purpose), None)


def member(overview: Any, jid: str) -> Any:
    return next((m for m in overview["members"] if m["jid"] == jid), None)


async def test_supervisor_sees_queue_agents_and_today_live(stack: Stack) -> None:
    sid = await stack.session()
    citizen = await stack.citizen()
    await citizen.claim_and_join(await stack.store.issue_ticket(sid))
    boss = await stack.agent("mercutio")

    asked = (await boss.iq("idchat_overview", "get"))["idchat_overview"]
    waiting = queue_of(asked, "report_move")
    assert waiting is not None and waiting["waiting"] == "1"
    assert waiting["label"] == "Verhuizing doorgeven" and int(waiting["longest"]) >= 0
    assert asked["service-level-seconds"] == "60"
    before = int(asked["today"]["answered"] or 0)

    watch = await boss.iq("idchat_watch")
    assert watch["idchat_watch"]["seconds"] == "600"
    await boss.available(max_chats=2, show="away", nick="Mercutio")  # an agent too, not on duty
    agent = await stack.agent("romeo")
    await agent.available(max_chats=2)
    offer = await agent.wait_for("idchat_offer")
    await agent.accept(offer)

    def served(ov: Any) -> bool:
        romeo = member(ov, ROMEO)
        q = queue_of(ov, "report_move")
        return romeo is not None and romeo["chats"] == "1" and romeo["available"] == "true" \
            and (q is None or q["waiting"] == "0") and int(ov["today"]["answered"]) == before + 1
    pushed = await boss.wait_for("idchat_overview", served, timeout=10)
    romeo = member(pushed, ROMEO)
    assert romeo["nick"] == "romeo" and romeo["capacity"] == "2"   # no nick sent: the local part
    assert 0 <= int(romeo["idle"]) <= 3                              # accepted just now
    away = member(pushed, SUPERVISOR)                                # named while away too
    assert away["nick"] == "Mercutio" and away["available"] == "false" and away["capacity"] == "2"
    assert pushed["today"]["service-level"] and 0 <= float(pushed["today"]["service-level"]) <= 1
    assert pushed["today"]["median-wait"] != ""
    for headline in boss.headlines:
        if headline.xml.find("{urn:xmpp:hints}no-store") is None:
            continue
        text = str(headline)
        for secret in (sid, offer["chat"], citizen.jid.bare, citizen.jid.user, *ATTRS.values()):
            assert secret not in text

    await boss.iq("idchat_unwatch")
    seen = len(boss.headlines)
    await agent.iq("idchat_end", chat=offer["chat"])
    await citizen.wait_for("idchat_status", lambda st: st["state"] == "ended")
    with pytest.raises(AssertionError):  # no more pushes after <unwatch/>
        await boss.wait_for("idchat_overview", timeout=2.5, after=seen)


async def test_an_agent_who_is_not_a_supervisor_is_forbidden(stack: Stack) -> None:
    agent = await stack.agent("romeo")
    for kind, ptype in (("idchat_overview", "get"), ("idchat_watch", "set"),
                        ("idchat_unwatch", "set")):
        with pytest.raises(IqError) as refused:
            await agent.iq(kind, ptype)
        assert error_condition(refused.value) == "forbidden", kind
    watchers = await stack.store.redis.zcard(stack.store.keys.watchers())
    assert watchers == 0                                    # nothing changed
    citizen = await stack.citizen()                          # a guest neither
    with pytest.raises(IqError) as refused:
        await citizen.iq("idchat_overview", "get")
    assert error_condition(refused.value) == "forbidden"
