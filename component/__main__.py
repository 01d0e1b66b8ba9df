"""Run the component: ``python -m component [--config FILE]``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from xmpp_plugin.logs import configure
from xmpp_plugin.settings import SettingsError, load_settings
from xmpp_plugin.store import connect

from . import audit
from .gateway import Gateway


async def run(config: str | None) -> int:
    try:
        # The component's role: it never reads the token keys (nor the demo settings).
        settings = load_settings(config, role="component")
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure(settings.log.level)
    audit.configure(settings.log.audit_file)
    # Every command waits at most redis.timeout_seconds (the event stream's blocking
    # read blocks for half that): a claim while Redis is away is refused, not kept waiting.
    client = connect(settings)
    gateway = Gateway(settings, client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    gateway.start()
    await stop.wait()
    await gateway.stop()
    await client.aclose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m component", description=__doc__)
    parser.add_argument("--config", help="TOML settings file (default: $IDCHAT_CONFIG)")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.config))


if __name__ == "__main__":
    sys.exit(main())
