"""Shared fixtures: a private Redis started from the project, settings built as in production."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import launcher
from oidc_server import CLIENT_ID, OidcProvider
from redis_server import RedisServer, free_port
from tokenlab import TEST_PRIVKEY, TEST_PUBKEY
from xmpp_plugin.settings import Settings, load_settings


def pytest_configure(config: pytest.Config) -> None:
    """A SIGTERM (a CI timeout, a supervisor) ends the run as Ctrl-C does, so the fixtures'
    teardown stops the servers they started; a second signal cannot cut that teardown short,
    and what a cut-short teardown left is stopped at exit (scripts/launcher.py)."""
    launcher.install_stop_handlers()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def make_settings(redis_server: RedisServer) -> Any:
    """Settings through the real loader: environment overrides on top of defaults."""
    def build(**env: str) -> Settings:
        base = {
            "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_TYPE": "RSA",
            "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(TEST_PRIVKEY),
            "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
            "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY),
            "IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(os.urandom(32)).decode(),
            "IDCHAT_REDIS_URL": redis_server.url,
            "IDCHAT_REDIS_KEY_PREFIX": "idchat-test-" + base64.b32encode(os.urandom(5)).decode().lower(),
            "IDCHAT_XMPP_COMPONENT_SECRET": "test-secret",
            # the published test keys above: allowed for demos and tests only
            "IDCHAT_DEMO_ENABLED": "true",
        }
        return load_settings(environ={**base, **env})
    return build


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    return make_settings()


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_server.url)
    yield client
    await client.aclose()


OIDC_CLIENT_SECRET = "idchat-test-client-secret"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """The demo OpenID Provider (scripts/oidc_provider.mjs, npm oidc-provider) with its demo
    users, for one HTTP service port reserved for the session (``oidc_provider.http_port``):
    its redirect URI is registered at the provider when it starts."""
    secret = tmp_path_factory.mktemp("oidc") / "client-secret"
    secret.write_text(OIDC_CLIENT_SECRET)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = OidcProvider([f"{base}/agent/oidc/callback"], client_secret_file=secret,
                            post_logout_redirect_uris=[f"{base}/agent"], test_api=True).start()
    provider.http_port = port  # type: ignore[attr-defined]
    yield provider
    provider.stop()


@pytest.fixture
def oidc_env(oidc_provider: OidcProvider) -> dict[str, str]:
    """Settings for agents.mode = "oidc" against ``oidc_provider``, on its reserved port."""
    port = oidc_provider.http_port  # type: ignore[attr-defined]
    return {"IDCHAT_AGENTS_MODE": "oidc", "IDCHAT_AGENTS_ISSUER": oidc_provider.issuer,
            "IDCHAT_AGENTS_CLIENT_ID": CLIENT_ID,
            "IDCHAT_AGENTS_CLIENT_SECRET": OIDC_CLIENT_SECRET,
            "IDCHAT_AGENTS_SCOPES": "openid,profile,idchat",
            "IDCHAT_AGENTS_GROUP_PURPOSES": "kcc-algemeen=*,kcc-belastingen=report_move|request_permit",
            "IDCHAT_AGENTS_CREDENTIAL_KEY": "idchat-test-credential-key-0123456789abcdef",
            "IDCHAT_AGENTS_PROVIDER_CHECK_SECONDS": "0",  # every renewal asks the provider
            "IDCHAT_HTTP_PORT": str(port), "IDCHAT_HTTP_EXTERNAL_URL": f"http://127.0.0.1:{port}"}
