"""Roles from the agent's credential (agents.mode = "oidc"): the HTTP service records what
each credential it issues allows (``agentgrant:<bare JID>``: roles, topics, expiry), and the
component believes that record, never the browser. Without a current grant an account on
the agent host is no agent and no supervisor; in xmpp-accounts mode the settings decide
(``routing.agents``, ``routing.agent_purposes``, ``routing.supervisors``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from slixmpp import JID

from xmpp_plugin.errors import Forbidden
from xmpp_plugin.settings import Settings

from .routing import Router


class Grants:
    def __init__(self, settings: Settings, router: Router) -> None:
        self.settings = settings
        self.router = router

    def by_credential(self, jid: JID) -> bool:
        """Whether this account's roles come from its credential (oidc, the agent host)."""
        return self.settings.agents.mode == "oidc" and jid.domain == self.settings.xmpp.agent_domain

    async def current(self, bare: str) -> dict[str, Any] | None:
        raw = await self.router.agent_grant(bare)
        if raw is None:
            return None
        try:
            grant = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(grant, dict) or not isinstance(grant.get("exp"), int) \
                or grant["exp"] <= time.time() or not isinstance(grant.get("roles"), list):
            return None
        return grant

    async def purposes_of_agent(self, jid: JID) -> str:
        """'*' or a comma list of the purposes the agent serves; Forbidden when the current
        credential does not give the agent role (a leaver, a role taken away, signed out)."""
        if not self.by_credential(jid):
            return self._configured_purposes(jid.bare)
        grant = await self.current(jid.bare)
        if grant is None or "agent" not in grant["roles"]:
            raise Forbidden("no current credential gives this account the agent role")
        purposes = grant.get("purposes")
        if not isinstance(purposes, list):
            return "*"
        return ",".join(p for p in purposes if isinstance(p, str))

    async def is_supervisor(self, jid: JID) -> bool:
        if not self.by_credential(jid):
            return jid.bare in self.settings.routing.supervisors
        grant = await self.current(jid.bare)
        return grant is not None and "supervisor" in grant["roles"]

    def _configured_purposes(self, bare: str) -> str:
        """'*' or a comma list, from routing.agent_purposes entries 'jid=p1|p2'."""
        for entry in self.settings.routing.agent_purposes:
            jid, _, purposes = entry.partition("=")
            if jid.strip() == bare:
                return ",".join(p.strip() for p in purposes.split("|") if p.strip())
        return "*"
