"""slixmpp without the per-JID memory a component does not need.

slixmpp keeps state for every JID it ever exchanged presence with: a roster node per
sender and an item per peer (incoming presence and, through an outgoing filter, every
presence we send), and through the MUC plugin's dependencies (XEP-0172 → PEP →
entity capabilities, XEP-0115) a caps version and disco data per room. A component
that sees a new room and a new guest JID for every chat never forgets any of it: the
soak benchmark (bench/soak.py) saw 5 KiB per chat on Prosody and 32 KiB on ejabberd,
whose rooms announce capabilities, for as long as the process ran.

ID Chat keeps what it needs itself (component/rooms.py ``Rooms.known``, bounded by the
live rooms), so here the roster remembers nothing, and the MUC plugin comes without
the plugins that cache per JID (the component never reads capabilities or nicknames
from PEP; the ``<nick/>`` element it needs is registered on its own).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from slixmpp import JID
from slixmpp.plugins.base import register_plugin
from slixmpp.plugins.xep_0045 import XEP_0045
from slixmpp.plugins.xep_0045 import stanza as muc_stanza
from slixmpp.roster import Roster, RosterItem, RosterNode

MUC_PLUGIN = "idchat_muc"


class Muc(XEP_0045):
    """XEP-0045 as slixmpp has it, without XEP-0172 (and so without PEP, pubsub and
    entity capabilities, which it pulls in)."""

    name = MUC_PLUGIN
    dependencies = {"xep_0004", "xep_0030", "xep_0203"}

    def plugin_init(self) -> None:
        """The stanza plugins only. The component sends requests to rooms (create,
        configure, admit, destroy) and takes occupants' presence and room messages with
        its own handlers (component/handlers/room.py); slixmpp's ten MUC handlers would
        match every stanza and keep occupant tables per room that nobody reads."""
        self.rooms = defaultdict(dict)
        self.our_nicks = defaultdict(dict)
        muc_stanza.register_plugins()


register_plugin(Muc)


class _Node(RosterNode):
    """A roster node that keeps no items: each lookup gets a fresh one."""

    def __getitem__(self, key: Any) -> RosterItem:
        bare = JID(key).bare if key is not None else ""
        return RosterItem(self.xmpp, bare, self.jid, roster=self)


class ForgetfulRoster(Roster):
    """A roster that keeps no nodes: slixmpp's presence handling still runs (and its
    events fire), but nothing of it outlives the stanza."""

    def __getitem__(self, key: Any) -> RosterNode:
        jid = JID(key) if key is not None else self.xmpp.boundjid
        return _Node(self.xmpp, jid.bare)


def forget_per_jid_state(xmpp: Any) -> None:
    """Put the forgetful roster in place of the one slixmpp made, without the outgoing
    filter every roster installs (it records the last presence sent to each JID)."""
    xmpp.del_filter("out", xmpp.roster._save_last_status)
    xmpp.roster = ForgetfulRoster(xmpp)
    xmpp.del_filter("out", xmpp.roster._save_last_status)
