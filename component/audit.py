"""Audit events: which agent received which attribute *names* of which chat, and when.

Written as JSON lines to their own logger (``idchat.audit``), apart from the
application log: to ``log.audit_file`` when set, else to stderr. Never values.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Iterable

from xmpp_plugin.models import session_ref

audit_log = logging.getLogger("idchat.audit")


def configure(path: str) -> None:
    audit_log.propagate = False
    audit_log.setLevel(logging.INFO)
    handler: logging.Handler = logging.FileHandler(path) if path else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    audit_log.handlers = [handler]


def event(kind: str, *, sid: str, chat: str, agent: str = "", names: Iterable[str] = (),
          **extra: object) -> None:
    record = {"event": kind, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "session": session_ref(sid), "chat": chat, "agent": agent,
              "attribute_names": sorted(names), **extra}
    audit_log.info(json.dumps(record, sort_keys=True))
