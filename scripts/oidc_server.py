"""Run the demo OpenID Provider (scripts/oidc_provider.mjs, the npm ``oidc-provider``) on a
free loopback port, for the demo and the tests. Standard library only.

    with OidcProvider(["http://127.0.0.1:8002/agent/oidc/callback"]) as op:
        op.issuer  # http://127.0.0.1:<port>
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import launcher

SCRIPT = Path(__file__).resolve().parent / "oidc_provider.mjs"
CLIENT_ID = "idchat-agent"


class OidcProviderError(RuntimeError):
    pass


class OidcProvider:
    """``client_secret_file``: the client secret the provider expects (the demo's default
    secret when None). ``test_api``: allow ``POST /_test/users/<name>`` (tests only)."""

    def __init__(self, redirect_uris: Sequence[str], *, client_secret_file: Path | None = None,
                 post_logout_redirect_uris: Sequence[str] = (), test_api: bool = False) -> None:
        self.redirect_uris = list(redirect_uris)
        self.post_logout_redirect_uris = list(post_logout_redirect_uris)
        self.client_secret_file = client_secret_file
        self.test_api = test_api
        self.issuer = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20) -> "OidcProvider":
        node = shutil.which("node")
        if node is None:
            raise OidcProviderError("node is not installed (make setup)")
        args = [node, str(SCRIPT), "--port", "0", "--client-id", CLIENT_ID]
        for uri in self.redirect_uris:
            args += ["--redirect-uri", uri]
        for uri in self.post_logout_redirect_uris:
            args += ["--post-logout-redirect-uri", uri]
        if self.client_secret_file:
            args += ["--client-secret-file", str(self.client_secret_file)]
        if self.test_api:
            args.append("--test-api")
        env = {**os.environ, "NODE_ENV": "production"}  # no dev-only warnings or stack traces
        self.proc = launcher.popen(args, stdout=subprocess.PIPE, env=env)
        out = self.proc.stdout
        assert out is not None  # stdout=PIPE
        ready, _, _ = select.select([out], [], [], timeout)
        line = out.readline() if ready else b""
        if not line:
            self.stop()
            raise OidcProviderError("the OpenID Provider did not start (see its stderr)")
        self.issuer = json.loads(line)["issuer"]
        return self

    def set_user(self, name: str, **change: object) -> None:
        """Tests only: change a demo user (``roles``, ``groups``, ``active``)."""
        if not self.issuer.startswith("http://127.0.0.1:"):
            raise OidcProviderError("not our local provider")
        url = f"{self.issuer}/_test/users/{name}"
        request = urllib.request.Request(url, method="POST", data=json.dumps(change).encode(),  # noqa: S310
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 - our loopback http URL

    def stop(self) -> None:
        launcher.stop_process(self.proc)
        self.proc = None

    def __enter__(self) -> "OidcProvider":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
