#!/usr/bin/env python3
"""Chat session benchmark: whole chats, end to end, on the real stack (``--help``).

The benchmark lives in bench/chatbench/: the stack it starts (stack.py), the actors
(actors.py, clients.py), the raw-XMPP baseline (baseline.py), the runs (runs.py), the
report (report.py) and the command line (cli.py, whose docstring describes the runs).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chatbench.cli import main, run_script

if __name__ == "__main__":
    run_script(main)
