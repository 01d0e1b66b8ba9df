"""Crash points for the fault tests (tests/integration/test_crash_points.py).

``IDCHAT_FAULT_CRASH_AT=<point>`` in a process's environment makes it kill itself with
SIGKILL when it reaches that point, as a power cut would: no cleanup, no flush. Unset
(always, in production) a point costs one comparison. The points are named where they
are placed (``claim.room_created``, ``accept.routed``, ...).
"""

from __future__ import annotations

import os
import signal

CRASH_AT = os.environ.get("IDCHAT_FAULT_CRASH_AT", "")


def point(name: str) -> None:
    if CRASH_AT and name == CRASH_AT:
        os.kill(os.getpid(), signal.SIGKILL)
