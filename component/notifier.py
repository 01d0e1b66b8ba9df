"""Telling people: the stanzas the component sends (docs/protocol.md §2–§6)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from slixmpp import JID, ComponentXMPP, Message
from slixmpp.exceptions import IqError, IqTimeout

from xmpp_plugin.models import StoredAttributes
from xmpp_plugin.settings import Settings

from .protocol.stanza import FORM_TYPE, Alternative, ChatItem
from .routing import Chat, OfferMade

if TYPE_CHECKING:
    from .chats import Chats

log = logging.getLogger(__name__)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Notifier:
    def __init__(self, xmpp: ComponentXMPP, settings: Settings) -> None:
        self.xmpp = xmpp
        self.settings = settings
        self._on_its_way: dict[int, asyncio.Future[None]] = {}
        xmpp.add_filter("out", self._on_way_out)

    def _on_way_out(self, stanza: Any) -> Any:
        """Outgoing filter: the stanza is handed to the network right after this."""
        waiting = self._on_its_way.pop(id(stanza), None)
        if waiting is not None and not waiting.done():
            waiting.set_result(None)
        return stanza

    async def send_now(self, stanza: Any, timeout: float = 5.0) -> bool:
        """Send, and return once the stanza has left the send queue (slixmpp queues sends):
        what is audited as delivered has been handed to the network."""
        waiting = asyncio.get_running_loop().create_future()
        self._on_its_way[id(stanza)] = waiting
        stanza.send()
        try:
            await asyncio.wait_for(waiting, timeout)
            return True
        except asyncio.TimeoutError:
            self._on_its_way.pop(id(stanza), None)
            log.warning("a stanza did not leave the send queue within %.0f s", timeout)
            return False

    def _headline(self, to: JID | str) -> Message:
        # A component must address its stanzas itself (ejabberd drops the stream otherwise).
        msg = self.xmpp.make_message(mto=to, mtype="headline", mfrom=self.xmpp.boundjid.bare)
        msg["no_store"]  # XEP-0334: never into archives, history or offline storage
        return msg

    # §2 to the citizen
    def queued(self, chat: Chat, position: int | None, *, interrupted: bool = False,
               transferred: bool = False) -> None:
        self.queued_at(chat.citizen, chat.id, position, interrupted=interrupted,
                       transferred=transferred)

    def queued_at(self, citizen: str, cid: str, position: int | None, *,
                  interrupted: bool = False, wait: float | None = None,
                  transferred: bool = False) -> None:
        msg = self._headline(citizen)
        st = msg["idchat_status"]
        st["chat"], st["state"] = cid, "queued"
        if position is not None:
            st["position"] = str(position)
        if wait is not None:
            st["wait"] = str(int(wait))
        if interrupted:
            st["interrupted"] = "true"
        if transferred:
            st["transferred"] = "true"
        msg.send()

    def offered(self, citizen: str, cid: str) -> None:
        """An agent is looking at the question (an offer is out)."""
        msg = self._headline(citizen)
        st = msg["idchat_status"]
        st["chat"], st["state"] = cid, "offered"
        msg.send()

    def assigned(self, chat: Chat, *, transferred: bool = False) -> None:
        msg = self._headline(chat.citizen)
        st = msg["idchat_status"]
        st["chat"], st["state"], st["agent"] = chat.id, "assigned", chat.agent_nick
        if transferred:
            st["transferred"] = "true"
        msg.send()

    def no_agent(self, chat: Chat) -> None:
        msg = self._headline(chat.citizen)
        st = msg["idchat_status"]
        st["chat"], st["state"] = chat.id, "no-agent"
        self.add_alternatives(st, chat.purpose)
        msg.send()

    def add_alternatives(self, el: Any, purpose: str) -> None:
        """The topic's alternative (topics file), else routing.alternative_nl / _en, as
        ``<alternative xml:lang/>`` children (§1 closed, §2 no-agent)."""
        texts = self.settings.topics.catalogue().topic(purpose).alternative or {
            "nl": self.settings.routing.alternative_nl, "en": self.settings.routing.alternative_en}
        for lang, text in texts.items():
            alt = Alternative()
            alt["lang"], alt["text"] = lang, text
            el.append(alt)

    def ended_citizen(self, citizen: JID, cid: str, by: str) -> None:
        msg = self._headline(citizen)
        st = msg["idchat_status"]
        st["chat"], st["state"], st["by"] = cid, "ended", by
        msg.send()

    # §3 to the agent
    def agent_state(self, agent: JID, chats: list[Chat], max_chats: int, available: bool) -> None:
        pres = self.xmpp.make_presence(pto=agent, pfrom=self.xmpp.boundjid.bare)
        el = pres["idchat_agent"]
        el["max-chats"], el["active"] = str(max_chats), str(len(chats))
        el["available"] = "true" if available else "false"
        for chat in chats:
            item = ChatItem()
            item["id"], item["purpose"] = chat.id, chat.purpose
            item["room"] = f"{chat.id}@{self.settings.xmpp.muc_domain}"
            item["since"] = _iso(chat.assigned_ms / 1000)
            if chat.auth_state:  # a reloaded console shows the request to log in again (§11)
                item["auth"], item["auth-method"] = "requested", chat.auth_method
            el.append(item)
        pres.send()

    # §4
    def offer(self, made: OfferMade, waiting: int, timeout: int) -> None:
        msg = self._headline(made.agent_full)
        o = msg["idchat_offer"]
        o["id"], o["chat"], o["purpose"] = made.offer, made.chat, made.purpose
        o["waiting"], o["timeout"] = str(waiting), str(timeout)
        msg.send()

    def transfer_offer(self, made: OfferMade, waiting: int, timeout: int, by: str) -> None:
        """§12 a colleague hands this agent a chat: an offer saying from whom."""
        msg = self._headline(made.agent_full)
        o = msg["idchat_offer"]
        o["id"], o["chat"], o["purpose"] = made.offer, made.chat, made.purpose
        o["waiting"], o["timeout"], o["from-agent"] = str(waiting), str(timeout), by
        msg.send()

    def transferred(self, sender: JID, cid: str, outcome: str, *, agent: str = "",
                    purpose: str = "") -> None:
        """§12 to the agent who handed a chat on: accepted, queued, declined, timeout or
        unavailable (the colleague's display name, or the topic's tag)."""
        msg = self._headline(sender)
        el = msg["idchat_transferred"]
        el["chat"], el["outcome"] = cid, outcome
        if agent:
            el["agent"] = agent
        if purpose:
            el["purpose"] = purpose
        msg.send()

    def revoke(self, agent: JID, oid: str, reason: str) -> None:
        msg = self._headline(agent)
        msg["idchat_revoke"]["offer"], msg["idchat_revoke"]["reason"] = oid, reason
        msg.send()

    # §5
    async def attributes(self, agent: JID, chat: Chat, stored: StoredAttributes | None,
                         handover: tuple[str, str] = ("", "")) -> None:
        msg = self._headline(agent)
        fill_attributes(msg["idchat_attributes"], chat, stored, self.settings, handover)
        await self.send_now(msg)

    # §11
    def auth(self, to: JID | str, cid: str, state: str, method: str = "", url: str = "") -> None:
        """Where an authentication during the chat stands; ``url`` (the core's client_url)
        goes to the citizen only."""
        msg = self._headline(to)
        el = msg["idchat_auth"]
        el["chat"], el["state"] = cid, state
        if method:
            el["method"] = method
        if url:
            el["url"] = url
        msg.send()

    # §6
    def ended_agent(self, agent: JID, cid: str, by: str) -> None:
        msg = self._headline(agent)
        msg["idchat_ended"]["chat"], msg["idchat_ended"]["by"] = cid, by
        msg.send()

    async def probe_agents(self, chats: "Chats") -> None:
        """After a reconnect: agents who no longer answer a ping are treated as gone."""
        router = chats.router
        for bare in await router.agents_on_duty():
            full = (await router.agent_info(bare)).get("full")
            try:
                await self.xmpp.plugin["xep_0199"].send_ping(JID(full), timeout=3,
                                                          ifrom=JID(self.xmpp.boundjid.bare))
            except (IqError, IqTimeout, asyncio.TimeoutError, TypeError):
                await chats.agent_gone(bare)


def fill_attributes(el: object, chat: Chat, stored: StoredAttributes | None,
                    settings: Settings, handover: tuple[str, str] = ("", "")) -> None:
    """The XEP-0004 result form of §5: the topic's attributes in its order (topics file),
    labels in the installation's language. A chat handed on (§12) also carries who handed
    it on and their internal note, last."""
    lang = settings.ui.default_language
    catalogue = settings.topics.catalogue()
    el["chat"] = chat.id  # type: ignore[index]
    form = el["form"]  # type: ignore[index]
    form["type"] = "result"
    form.add_field(var="FORM_TYPE", ftype="hidden", value=FORM_TYPE)
    nl = lang == "nl"
    form.add_field(var="purpose", label="Onderwerp" if nl else "Topic",
                   value=chat.purpose)
    form.add_field(var="purpose_label", label="Onderwerp" if nl else "Topic",
                   value=catalogue.label(chat.purpose, lang))
    status = "pending" if stored is None else ("verified" if stored.verified else "not_verified")
    form.add_field(var="status", label="Status", value=status)
    if stored is not None:
        _fill_details(form, chat, stored, settings)
    by, note = handover
    if by:
        form.add_field(var="transferred_by", label="Overgedragen door" if nl else "Handed on by",
                       value=by)
    if note:
        form.add_field(var="transfer_note", ftype="text-multi",
                       label="Notitie bij overdracht" if nl else "Handover note", value=note)


def _fill_details(form: Any, chat: Chat, stored: StoredAttributes, settings: Settings) -> None:
    lang = settings.ui.default_language
    catalogue = settings.topics.catalogue()
    nl = lang == "nl"
    form.add_field(var="source", label="Bron" if nl else "Source", value=stored.source.value)
    # A failed login has a time too, but nothing was verified then.
    when = ("Geverifieerd op" if nl else "Verified at") if stored.verified else \
        ("Inlogpoging op" if nl else "Login attempt at")
    form.add_field(var="verified_at", label=when, value=_iso(stored.verified_at))
    for name, value in catalogue.shown(chat.purpose, stored.attributes):
        label = catalogue.attribute_label(name, lang)
        form.add_field(var=f"attr:{name}", label=label, value=value)
