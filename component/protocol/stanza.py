"""Stanza classes of the ID Chat protocol, version 1 (docs/protocol.md).

Every XML name and namespace of our extension lives here.
"""

from __future__ import annotations

from slixmpp import Iq, Message, Presence
from slixmpp.plugins.xep_0004 import Form
from slixmpp.xmlstream import ElementBase, register_stanza_plugin

NS = "https://idchat.nl/protocol/chat/1"
FORM_TYPE = "https://idchat.nl/protocol/attributes/1"
HINTS_NS = "urn:xmpp:hints"  # XEP-0334


class Claim(ElementBase):
    """§1 citizen → component: redeem the page's one-time ticket."""
    name, namespace, plugin_attrib = "claim", NS, "idchat_claim"
    interfaces = {"ticket"}


class Claimed(ElementBase):
    """§1 answer: the room to join and where the citizen stands."""
    name, namespace, plugin_attrib = "claimed", NS, "idchat_claimed"
    interfaces = {"room", "nick", "purpose", "state", "position", "wait", "chat"}


class Closed(ElementBase):
    """§1 answer outside the topic's opening hours: nothing was claimed or created."""
    name, namespace, plugin_attrib = "closed", NS, "idchat_closed"
    interfaces = {"purpose", "opens"}


class Status(ElementBase):
    """§2 component → citizen: queued, assigned, no-agent or ended."""
    name, namespace, plugin_attrib = "status", NS, "idchat_status"
    interfaces = {"chat", "state", "position", "wait", "agent", "by", "interrupted"}


class Alternative(ElementBase):
    name, namespace, plugin_attrib = "alternative", NS, "alternative"
    plugin_multi_attrib = "alternatives"
    interfaces = {"lang", "text"}
    lang_interfaces = set()

    def get_lang(self) -> str:  # type: ignore[override]  # our "lang" interface, not xml:lang lookup
        return self.xml.get("{http://www.w3.org/XML/1998/namespace}lang", "")

    def set_lang(self, value: str) -> None:  # type: ignore[override]
        self.xml.set("{http://www.w3.org/XML/1998/namespace}lang", value)

    def get_text(self) -> str:
        return self.xml.text or ""

    def set_text(self, value: str) -> None:
        self.xml.text = value


class Agent(ElementBase):
    """§3 agent availability (agent → component) and its confirmation (component → agent)."""
    name, namespace, plugin_attrib = "agent", NS, "idchat_agent"
    interfaces = {"max-chats", "active", "available"}


class ChatItem(ElementBase):
    """§3 one open chat of an agent, in the confirmation presence (with §11's request, if out)."""
    name, namespace, plugin_attrib = "chat", NS, "chat"
    plugin_multi_attrib = "chats"
    interfaces = {"id", "room", "purpose", "since", "auth", "auth-method"}


class Replies(ElementBase):
    """§3a agent → component (get) and its result: the canned replies of the topics file."""
    name, namespace, plugin_attrib = "replies", NS, "idchat_replies"
    interfaces = set()


class Reply(Alternative):
    """§3a one canned reply: its text, in ``xml:lang``; ``purpose`` absent for every topic."""
    name, namespace, plugin_attrib = "reply", NS, "reply"
    plugin_multi_attrib = "replies"
    interfaces = {"key", "purpose", "lang", "text"}


class Offer(ElementBase):
    """§4 component → agent."""
    name, namespace, plugin_attrib = "offer", NS, "idchat_offer"
    interfaces = {"id", "chat", "purpose", "waiting", "timeout"}


class Accept(ElementBase):
    name, namespace, plugin_attrib = "accept", NS, "idchat_accept"
    interfaces = {"offer"}


class Decline(ElementBase):
    name, namespace, plugin_attrib = "decline", NS, "idchat_decline"
    interfaces = {"offer"}


class Accepted(ElementBase):
    name, namespace, plugin_attrib = "accepted", NS, "idchat_accepted"
    interfaces = {"room", "chat"}


class Revoke(ElementBase):
    name, namespace, plugin_attrib = "revoke", NS, "idchat_revoke"
    interfaces = {"offer", "reason"}


class Attributes(ElementBase):
    """§5 the XEP-0004 result form for the accepting agent (or a get for it again)."""
    name, namespace, plugin_attrib = "attributes", NS, "idchat_attributes"
    interfaces = {"chat"}


class End(ElementBase):
    """§6 either side → component."""
    name, namespace, plugin_attrib = "end", NS, "idchat_end"
    interfaces = {"chat"}


class Ended(ElementBase):
    """§6 component → agent."""
    name, namespace, plugin_attrib = "ended", NS, "idchat_ended"
    interfaces = {"chat", "by"}


class AuthMethods(ElementBase):
    """§11 agent → component (get): which methods the core allows for this chat's purpose."""
    name, namespace, plugin_attrib = "auth-methods", NS, "idchat_auth_methods"
    interfaces = {"chat"}


class AuthMethod(ElementBase):
    """§11 one allowed method in the answer."""
    name, namespace, plugin_attrib = "method", NS, "method"
    plugin_multi_attrib = "methods"
    interfaces = {"tag"}


class Authenticate(ElementBase):
    """§11 agent → component (set): ask the citizen to log in with ``method``."""
    name, namespace, plugin_attrib = "authenticate", NS, "idchat_authenticate"
    interfaces = {"chat", "method"}


class AuthCancel(ElementBase):
    """§11 citizen (refuses) or agent (withdraws) → component."""
    name, namespace, plugin_attrib = "auth-cancel", NS, "idchat_auth_cancel"
    interfaces = {"chat"}


class Auth(ElementBase):
    """§11 component → citizen and agent: where the request stands."""
    name, namespace, plugin_attrib = "auth", NS, "idchat_auth"
    interfaces = {"chat", "state", "method", "url"}


class NoStore(ElementBase):
    """XEP-0334 §4: keep the message out of archives, history and offline storage."""
    name, namespace, plugin_attrib = "no-store", HINTS_NS, "no_store"
    interfaces = set()


class Overview(ElementBase):
    """§9 component → supervisor: the contact centre now and today (IQ result or push)."""
    name, namespace, plugin_attrib = "overview", NS, "idchat_overview"
    interfaces = {"at", "service-level-seconds"}


class QueueRow(ElementBase):
    """§9 one purpose's queue in the overview."""
    name, namespace, plugin_attrib = "queue", NS, "queue"
    plugin_multi_attrib = "queues"
    interfaces = {"purpose", "label", "waiting", "longest", "expected"}


class MemberRow(ElementBase):
    """§9 one agent in the overview: availability and load, never a chat or a citizen."""
    name, namespace, plugin_attrib = "member", NS, "member"
    plugin_multi_attrib = "members"
    interfaces = {"jid", "nick", "available", "chats", "offers", "capacity", "idle"}


class Today(ElementBase):
    """§9 today's figures in the overview."""
    name, namespace, plugin_attrib = "today", NS, "today"
    interfaces = {"answered", "abandoned", "median-wait", "service-level"}


class Watch(ElementBase):
    """§9 supervisor → component: push the overview to me (for a while)."""
    name, namespace, plugin_attrib = "watch", NS, "idchat_watch"
    interfaces = {"seconds"}


class Unwatch(ElementBase):
    """§9 supervisor → component: stop pushing."""
    name, namespace, plugin_attrib = "unwatch", NS, "idchat_unwatch"
    interfaces = set()


def register() -> None:
    for parent, plugin in ((Iq, Claim), (Iq, Claimed), (Iq, Accept), (Iq, Decline),
                           (Iq, Accepted), (Iq, Attributes), (Iq, End),
                           (Message, Status), (Message, Offer), (Message, Revoke),
                           (Message, Attributes), (Message, Ended), (Message, NoStore),
                           (Presence, Agent), (Iq, Overview), (Message, Overview),
                           (Iq, Watch), (Iq, Unwatch), (Iq, AuthMethods), (Iq, Authenticate),
                           (Iq, AuthCancel), (Message, Auth)):
        register_stanza_plugin(parent, plugin)
    register_stanza_plugin(Status, Alternative, iterable=True)
    register_stanza_plugin(Iq, Closed)
    register_stanza_plugin(Closed, Alternative, iterable=True)
    register_stanza_plugin(Iq, Replies)
    register_stanza_plugin(Replies, Reply, iterable=True)
    register_stanza_plugin(Agent, ChatItem, iterable=True)
    register_stanza_plugin(Overview, QueueRow, iterable=True)
    register_stanza_plugin(Overview, MemberRow, iterable=True)
    register_stanza_plugin(Overview, Today)
    register_stanza_plugin(Attributes, Form)
    register_stanza_plugin(AuthMethods, AuthMethod, iterable=True)
