"""Test-only token factory: keys and tokens minted as the ID Contact auth plugins mint them."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwcrypto import jwe

from xmpp_plugin.keys import PrivateKey, PublicKey, to_jwk
from xmpp_plugin.simulator import auth_claims, mint_token  # also re-exported

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
TEST_PRIVKEY = ROOT / "demo" / "test-keys" / "test-privkey.pem"  # published ID Contact test key
TEST_PUBKEY = ROOT / "demo" / "test-keys" / "test-pubkey.pem"

ATTRS = {"fullname": "Juliet Capulet", "email": "juliet@capulet.lit", "bsn": "999990019",
         "city": "Verona"}


@lru_cache
def idc_private_key() -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(TEST_PRIVKEY.read_bytes(), None)  # type: ignore[return-value]


@lru_cache
def idc_public_key() -> rsa.RSAPublicKey:
    return serialization.load_pem_public_key(TEST_PUBKEY.read_bytes())  # type: ignore[return-value]


@lru_cache
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@lru_cache
def ec_key(n: int = 0) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem_private(key: PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def pem_public(key: PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def token(attributes: dict[str, str] | None = ATTRS, **kw: Any) -> str:
    """A valid token to the test key, signed with the test key."""
    claims = auth_claims(attributes, now=kw.pop("now", None), session_url=kw.pop("session_url", None))
    claims.update(kw.pop("claims", {}))
    for name in kw.pop("drop", ()):
        claims.pop(name, None)
    return mint_token(claims, kw.pop("enc_key", idc_public_key()),
                      kw.pop("sign_key", idc_private_key()), **kw)


def jwe_of(plaintext: bytes, key: PublicKey | None = None, **header: str) -> str:
    """Encrypt arbitrary plaintext, for malformed-payload cases."""
    hdr = {"typ": "JWT", "cty": "JWT", "alg": "RSA-OAEP", "enc": "A128CBC-HS256", **header}
    envelope = jwe.JWE(plaintext, protected=json.dumps(hdr))
    envelope.add_recipient(to_jwk(key or idc_public_key()))
    return envelope.serialize(compact=True)  # type: ignore[no-any-return]
