"""``python -m xmpp_plugin`` and ``python -m component`` refuse to start, with a message that
says how to fix it, when a setting of their own role is missing or when a demo part (the
published test keys, the core simulator) is on without ``demo.enabled``.

They exit at the settings, before any connection: no network needed.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys

import pytest

from tokenlab import ROOT, TEST_PRIVKEY, TEST_PUBKEY

BASE = {"IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(b"k" * 32).decode(),
        # nothing listens here: a process that got past its settings fails later, not with 2
        "IDCHAT_REDIS_URL": "redis://127.0.0.1:1/0"}
TEST_KEYS = {"IDCHAT_TOKENS_DECRYPTION_PRIVKEY_TYPE": "RSA",
             "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(TEST_PRIVKEY),
             "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
             "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY)}


def run(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IDCHAT_")}
    return subprocess.run([sys.executable, "-m", module], cwd=ROOT, env={**clean, **BASE, **env},
                          capture_output=True, text=True, timeout=30, check=False)


def test_component_without_its_secret_says_so_and_asks_for_no_token_key() -> None:
    result = run("component", {})
    assert result.returncode == 2
    assert "xmpp.component_secret is required for the component" in result.stderr
    assert "tokens" not in result.stderr


def test_http_service_without_token_keys_says_so_and_asks_for_no_component_secret() -> None:
    result = run("xmpp_plugin", {})
    assert result.returncode == 2
    assert "tokens.decryption_privkey is required for the HTTP service" in result.stderr
    assert "component_secret" not in result.stderr


def test_http_service_refuses_the_published_test_keys_without_the_demo_flag() -> None:
    result = run("xmpp_plugin", TEST_KEYS)
    assert result.returncode == 2
    assert "tokens.decryption_privkey is the PUBLISHED ID Contact test key" in result.stderr
    assert "IDCHAT_DEMO_ENABLED=true" in result.stderr


@pytest.mark.parametrize("demo", ["false", "true"])
def test_http_service_refuses_the_core_simulator_without_the_demo_flag(demo: str) -> None:
    taken = socket.socket()  # the port is taken: past its settings, the service stops at once
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    with taken:
        result = run("xmpp_plugin", {**TEST_KEYS, "IDCHAT_DEMO_CORE_SIMULATOR": "true",
                                     "IDCHAT_HTTP_PORT": str(taken.getsockname()[1]),
                                     "IDCHAT_DEMO_ENABLED": demo,
                                     "IDCHAT_DEMO_ENCRYPTION_PUBKEY_TYPE": "RSA",
                                     "IDCHAT_DEMO_ENCRYPTION_PUBKEY_FILE": str(TEST_PUBKEY),
                                     "IDCHAT_DEMO_SIGNING_PRIVKEY_TYPE": "RSA",
                                     "IDCHAT_DEMO_SIGNING_PRIVKEY_FILE": str(TEST_PRIVKEY)})
    if demo == "false":
        assert result.returncode == 2
        assert "demo.core_simulator serves /demo/core" in result.stderr
        assert "IDCHAT_DEMO_ENABLED=true" in result.stderr
    else:  # positive control: with the flag it gets past its settings (then cannot listen)
        assert result.returncode != 2 and "invalid settings" not in result.stderr
        assert "PUBLISHED ID Contact TEST KEY" in result.stderr        # and says so loudly
