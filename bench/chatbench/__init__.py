"""The chat session benchmark (``bench/chat_sessions.py``), in parts:

* :mod:`.common`: names of the stack, timeouts, readings from /proc and Redis
* :mod:`.stack`: the processes it starts (Redis, Prosody or ejabberd, the HTTP service, the
  component), each through ``scripts/launcher.py`` as the test fixtures do
* :mod:`.clients`: slixmpp test clients (login, join, logout) and stanza counting
* :mod:`.actors`: the citizen (HTTP start, page, guest, claim, room) and the agent
* :mod:`.baseline`: the same XMPP work done raw by slixmpp clients (no component, HTTP or Redis)
* :mod:`.runs`: the load runs (closed loop) and the memory run
* :mod:`.report`: the Markdown tables and the line that says what was measured
* :mod:`.cli`: the command line

The product never imports this package; ``bench/soak.py`` and ``bench/flood.py`` reuse the
stack and the actors.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / "scripts", ROOT, ROOT / "bench"):  # launcher, the product, benchlib
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
