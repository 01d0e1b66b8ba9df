"""The municipality's topics file on the real stack (Prosody: nothing here is the server's):
a claim outside opening hours is told so and no agent is offered anything, while
/start_communication still answers; the topic's attributes in its order with its labels;
canned replies for agents only; an unknown purpose served under its tag."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from slixmpp.exceptions import IqError

from actors import Stack, error_condition, form_values
from xmpp_plugin.app import create_app
from xmpp_plugin.hours import zone
from xmpp_plugin.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def topics_file(tmp_path: Path) -> tuple[Path, datetime]:
    """report_move always open; request_permit closed today and tomorrow (Amsterdam), open
    all day otherwise: it opens the day after tomorrow at 00:00 local time."""
    today = datetime.now(zone()).date()
    day_after = today + timedelta(days=2)
    opens = datetime(day_after.year, day_after.month, day_after.day, tzinfo=zone())
    all_day = "\n".join(f'{d} = ["00:00-24:00"]' for d in (
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    path = tmp_path / "topics.toml"
    path.write_text(f"""
[attributes]
fullname = {{ nl = "Naam inwoner", en = "Citizen's name" }}
city = {{ nl = "Gemeente", en = "Municipality" }}
bsn = {{ nl = "BSN", en = "BSN" }}

[[replies]]
key = "welkom"
nl = "Goedendag, u spreekt met {{agent}}."
en = "Hello, this is {{agent}}."

[[topics]]
purpose = "report_move"
nl = "Verhuizen"
en = "Moving house"
attributes = ["city", "fullname"]

[[topics.replies]]
key = "adres"
nl = "Wat is uw nieuwe adres? ({{topic}})"

[[topics]]
purpose = "request_permit"
nl = "Vergunning"
en = "Permit"
alternative = {{ nl = "Mail vergunningen@gemeente.example.", en = "Mail permits@gemeente.example." }}
[topics.hours]
{all_day}
closed = [{today.isoformat()}, {(today + timedelta(days=1)).isoformat()}]
""")
    return path, opens.astimezone(UTC)


@pytest.fixture
def opens_at(tmp_path: Path) -> datetime:
    return topics_file(tmp_path)[1]


@pytest.fixture
def stack_settings(make_settings: Any, stack_env: dict[str, str], tmp_path: Path) -> Settings:
    return make_settings(**stack_env, IDCHAT_TOPICS_FILE=str(topics_file(tmp_path)[0]))  # type: ignore[no-any-return]


@pytest.mark.parametrize("xmpp_server", ["prosody"], indirect=True)
async def test_topics_hours_labels_and_replies(stack: Stack, opens_at: datetime,
                                               aiohttp_client: Any) -> None:
    romeo = await stack.agent("romeo")
    await romeo.available(max_chats=3)
    await asyncio.sleep(0.3)

    # The core may still start a chat for a closed topic: it decides, the page tells.
    http = await aiohttp_client(TestServer(create_app(stack.settings)))
    started = await http.post("/start_communication", json={"purpose": "request_permit"})
    assert started.status == 200 and "client_url" in await started.json()

    # Closed: the claim says so, with when it opens and the topic's own alternative.
    closed_sid = await stack.session(purpose="request_permit")
    ticket = await stack.store.issue_ticket(closed_sid)
    citizen = await stack.citizen()
    answer = await citizen.iq("idchat_claim", ticket=ticket)
    closed = answer["idchat_closed"]
    assert closed["purpose"] == "request_permit"
    assert closed["opens"] == opens_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {a["lang"]: a["text"] for a in closed["alternatives"]} == {
        "nl": "Mail vergunningen@gemeente.example.", "en": "Mail permits@gemeente.example."}
    assert not answer["idchat_claimed"]["room"]
    assert await stack.store.chat_of(closed_sid) is None               # nothing opened
    assert await stack.store.redis.get(stack.store.keys.ticket(ticket)) == closed_sid.encode()  # unused

    # An open topic in the same minute: the offer that follows is the positive control
    # that the agent would have seen one for the closed topic.
    open_citizen = await stack.citizen()
    claimed = await open_citizen.claim_and_join(await stack.store.issue_ticket(await stack.session()))
    offer = await romeo.wait_for("idchat_offer")
    assert offer["chat"] == claimed["chat"]
    assert [m["idchat_offer"]["purpose"] for m in romeo.headlines if m["idchat_offer"]["id"]] \
        == ["report_move"]                                              # never request_permit

    # The attributes: only the topic's, in its order, with the file's labels.
    await romeo.accept(offer)
    form = (await romeo.wait_for("idchat_attributes"))["form"]
    attrs = [(f["var"], f["label"]) for f in form.get_fields().values() if f["var"].startswith("attr:")]
    assert attrs == [("attr:city", "Gemeente"), ("attr:fullname", "Naam inwoner")]
    assert form_values(form)["purpose_label"] == "Verhuizen"
    assert "attr:bsn" not in form_values(form) and "attr:email" not in form_values(form)
    delivered = [json.loads(line) for line in stack.audit_file.read_text().splitlines()]
    assert [e["attribute_names"] for e in delivered if e["event"] == "attributes-delivered"] \
        == [["city", "fullname"]]                                       # what was shown, no more

    # Canned replies: every reply with its key, language and topic, placeholders intact.
    got = (await romeo.iq("idchat_replies", ptype="get"))["idchat_replies"]["replies"]
    assert [(r["key"], r["lang"], r["purpose"], r["text"]) for r in got] == [
        ("welkom", "nl", "", "Goedendag, u spreekt met {agent}."),
        ("welkom", "en", "", "Hello, this is {agent}."),
        ("adres", "nl", "report_move", "Wat is uw nieuwe adres? ({topic})")]
    with pytest.raises(IqError) as refused:                             # agents only
        await citizen.iq("idchat_replies", ptype="get")
    assert error_condition(refused.value) == "forbidden"

    # A purpose the file does not know is served under its tag.
    stranger = await stack.citizen()
    unknown = await stranger.claim_and_join(
        await stack.store.issue_ticket(await stack.session(purpose="dog_licence")))
    assert unknown["purpose"] == "dog_licence" and unknown["state"] in ("queued", "assigned")
    assert (await romeo.wait_for("idchat_offer", lambda o: o["chat"] == unknown["chat"]))["purpose"] \
        == "dog_licence"
