"""Run the HTTP service: ``python -m xmpp_plugin [--config FILE]``."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from .app import create_app
from .logs import configure
from .settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xmpp_plugin", description=__doc__)
    parser.add_argument("--config", help="TOML settings file (default: $IDCHAT_CONFIG)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config, role="http")
        configure(settings.log.level)
        app = create_app(settings)  # refuses the published test keys unless demo.enabled
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if settings.demo.core_simulator:
        logging.getLogger(__name__).warning(
            "the core simulator is ON at %s/demo/core: a demo, never for production",
            settings.http.external_url)
    web.run_app(app, host=settings.http.host, port=settings.http.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
