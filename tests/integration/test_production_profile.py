"""The production profiles, started as a municipality runs them (issue 8, item 6).

prosody/prosody.production.cfg.lua and ejabberd/ejabberd.production.yml, each started
through its launcher with a throwaway self-signed certificate made here: unencrypted
c2s offers nothing but STARTTLS and plaintext authentication is refused; a client that
verifies the certificate logs in over TLS (agent and guest); a guest still cannot
message an agent; the server process does not run as root; it listens on its own
three ports only (no server-to-server port, no admin port) and serves no admin page.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import os
import pwd
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from actors import AGENT_PASSWORD, xmpp_env
from ejabberd_server import EjabberdServer
from hostile import (
    Inbox,
    SessionRefused,
    auth_without_tls,
    connect_tls,
    listening_ports,
    process_uid,
    refused,
    stream_features,
)
from prosody_server import ProsodyError, ProsodyServer
from xmpp_clients import XMPPConnectError, close, connect_agent

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

AGENT_DOMAIN = "agents.idchat.localhost"
GUEST_DOMAIN = "guest.idchat.localhost"
AGENT = f"juliet@{AGENT_DOMAIN}"


def make_certificate(folder: Path, owner: str) -> tuple[Path, Path]:
    """A self-signed certificate for the agent and guest domains, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, AGENT_DOMAIN)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(AGENT_DOMAIN), x509.DNSName(GUEST_DOMAIN)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(mode=0o755)
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    if os.geteuid() == 0:  # the server reads them as its own user
        account = pwd.getpwnam(owner)
        for path in (folder, cert_file, key_file):
            os.chown(path, account.pw_uid, account.pw_gid)
    return cert_file, key_file


class Production:
    """One server started with its production profile, and what the tests need to know."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        # Not pytest's tmp_path: its parents are 0700 root, and the server runs as its own user.
        self.workdir = Path(tempfile.mkdtemp(prefix=f"idchat-{kind}-production-"))
        os.chmod(self.workdir, 0o755)
        self.cert, key = make_certificate(self.workdir / "tls", "prosody" if kind == "prosody" else "ejabberd")
        self.env = {**xmpp_env(), "IDCHAT_XMPP_TLS_CERT_FILE": str(self.cert),
                    "IDCHAT_XMPP_TLS_KEY_FILE": str(key)}
        self.c2s = int(self.env["IDCHAT_XMPP_C2S_PORT"])
        self.http = int(self.env["IDCHAT_XMPP_HTTP_PORT"])
        self.ports = {self.c2s, int(self.env["IDCHAT_XMPP_COMPONENT_PORT"]), self.http}
        server_dir = self.workdir / "server"
        if kind == "prosody":
            self.server: Any = ProsodyServer(server_dir, self.env, profile="production")
        else:
            self.server = EjabberdServer(server_dir, self.env, profile="production")

    def start(self) -> None:
        self.server.start()
        self.server.register("juliet", AGENT_DOMAIN, AGENT_PASSWORD)

    def pid(self) -> int:
        """The server process: Prosody itself, or ejabberd's Erlang VM."""
        pid = self.server.pid if self.kind == "prosody" else self.server._find_beam()
        assert pid is not None
        return int(pid)

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def stop(self) -> None:
        self.server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="module", params=["prosody", "ejabberd"])
def production(request: pytest.FixtureRequest) -> Iterator[Production]:
    server = Production(request.param)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_unencrypted_c2s_offers_nothing_but_starttls(production: Production) -> None:
    for domain in (AGENT_DOMAIN, GUEST_DOMAIN):
        features = stream_features("127.0.0.1", production.c2s, domain)
        assert "urn:ietf:params:xml:ns:xmpp-tls" in features and "required" in features, features
        assert "<mechanism>" not in features, f"{domain} offers a login before TLS: {features}"
    # Positive control: once encrypted, the same stream offers the logins.
    agent_features = stream_features("127.0.0.1", production.c2s, AGENT_DOMAIN, tls=production.tls_context())
    guest_features = stream_features("127.0.0.1", production.c2s, GUEST_DOMAIN, tls=production.tls_context())
    assert "<mechanism>PLAIN</mechanism>" in agent_features
    assert "<mechanism>ANONYMOUS</mechanism>" in guest_features


def test_plaintext_authentication_is_refused(production: Production) -> None:
    plain = base64.b64encode(f"\0juliet\0{AGENT_PASSWORD}".encode()).decode()
    for domain, mechanism, payload in ((AGENT_DOMAIN, "PLAIN", plain), (GUEST_DOMAIN, "ANONYMOUS", "=")):
        answer = auth_without_tls("127.0.0.1", production.c2s, domain, mechanism, payload)
        assert "<success" not in answer, f"{mechanism} without TLS succeeded: {answer}"
        assert "failure" in answer or "stream:error" in answer, answer


async def test_a_client_without_tls_gets_no_session(production: Production) -> None:
    with pytest.raises(XMPPConnectError):
        await connect_agent(AGENT, AGENT_PASSWORD, production.c2s, timeout=5)


async def test_tls_clients_log_in_and_a_guest_still_cannot_reach_an_agent(production: Production) -> None:
    agent = await connect_tls(AGENT, AGENT_PASSWORD, production.c2s, production.cert)
    guest = await connect_tls(GUEST_DOMAIN, "", production.c2s, production.cert)
    try:
        assert agent.boundjid.bare == AGENT
        assert guest.boundjid.domain == GUEST_DOMAIN and guest.boundjid.user
        guest_inbox, agent_inbox = Inbox(guest), Inbox(agent)
        message = guest.make_message(mto=agent.boundjid, mbody="Hallo?", mtype="chat")
        assert await refused(guest, guest_inbox, message) == "policy-violation"
        # Positive control: the guest's session is alive and its server answers it.
        ping = guest.make_iq_get(ito=GUEST_DOMAIN)
        ping.enable("ping")
        ping.send()
        await guest_inbox.wait_for(lambda s: s["id"] == ping["id"] and s["type"] == "result")
        await asyncio.sleep(0.5)
        assert agent_inbox.from_bare(guest.boundjid) == []
    finally:
        for xmpp in (guest, agent):
            await close(xmpp)
    # A client that trusts another certificate gets no session.
    elsewhere = Path(tempfile.mkdtemp(prefix="idchat-untrusted-"))
    try:
        untrusted, _ = make_certificate(elsewhere / "tls", "root")
        with pytest.raises(SessionRefused):
            await connect_tls(AGENT, AGENT_PASSWORD, production.c2s, untrusted, timeout=5)
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)


def test_the_server_does_not_run_as_root(production: Production, tmp_path: Path) -> None:
    uid = process_uid(production.pid())
    assert uid != 0
    if os.geteuid() != 0:
        assert uid == os.geteuid()
        return
    # Started by root: the server runs as its own system user ...
    assert pwd.getpwuid(uid).pw_name == ("prosody" if production.kind == "prosody" else "ejabberd")
    if production.kind == "prosody":
        # ... and Prosody, started as root itself, refuses to run. (The profile's own
        # check: Prosody 0.12.3's mod_posix logs a refusal and then keeps running.)
        workdir = Path(tempfile.mkdtemp(prefix="idchat-prosody-as-root-"))
        try:
            env = {**xmpp_env(), **{k: v for k, v in production.env.items() if "TLS" in k}}
            as_root = ProsodyServer(workdir, env, profile="production", user="root")
            with pytest.raises(ProsodyError, match="exited with code 1") as refusal:
                as_root.start(timeout=15)
            assert "the production profile never runs as root" in str(refusal.value)
            assert not as_root.is_running()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def test_it_listens_on_its_own_ports_only(production: Production) -> None:
    ports = listening_ports(production.pid())
    expected = set(production.ports)
    if production.kind == "ejabberd":  # ejabberdctl's channel to the node, on loopback
        cfg = (production.server.conf_dir / "ejabberdctl.cfg").read_text()
        expected.add(int(cfg.split("ERL_DIST_PORT=", 1)[1].split()[0]))
    assert production.c2s in ports  # the scan sees the listeners
    assert ports == expected, f"unexpected listeners: {sorted(ports - expected)}"
    assert 5269 not in ports  # the s2s port


async def test_no_admin_pages_on_the_http_port(production: Production) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/admin", "/admin/", "/api/status", "/xmpp-websocket"):
            async with http.get(f"http://127.0.0.1:{production.http}{path}") as response:
                body = await response.text()
                if path == "/xmpp-websocket":  # positive control: the port answers
                    assert response.status in {200, 400, 426}, (path, response.status)
                else:
                    assert response.status == 404, (path, response.status, body[:200])


# ejabberd's WebSocket handler has no such notion: there the reverse proxy alone
# keeps plain WebSocket off the network (docs/deployment.md).
@pytest.mark.parametrize("production", ["prosody"], indirect=True)
async def test_prosody_websocket_counts_as_encrypted_only_through_the_tls_proxy(
        production: Production) -> None:
    url = f"ws://127.0.0.1:{production.http}/xmpp-websocket"

    async def mechanisms(headers: dict[str, str]) -> str:
        async with aiohttp.ClientSession() as http, http.ws_connect(
                url, protocols=("xmpp",), headers=headers) as ws:
            await ws.send_str(f'<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="{AGENT_DOMAIN}" version="1.0"/>')
            frames = [await ws.receive_str(timeout=5) for _ in range(2)]
            return frames[1]

    # 127.0.0.1 is a trusted proxy (IDCHAT_LIMITS_TRUSTED_PROXIES' default).
    assert "<mechanism>PLAIN</mechanism>" in await mechanisms({"X-Forwarded-Proto": "https"})
    assert "<mechanism>" not in await mechanisms({})
