"""Loading the configured PEM keys, and spotting the published ID Contact test keys."""

from __future__ import annotations

import hashlib
import logging

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwcrypto import jwk

from .settings import KeyConfig, Settings, SettingsError

log = logging.getLogger(__name__)

# SHA-256 of the SubjectPublicKeyInfo (DER) of the RSA-2048 test key pair that the
# ID Contact setup guide publishes. Anyone can decrypt and forge with it.
PUBLISHED_TEST_KEY_SPKI_SHA256 = "f39b64a429a25336ecffbefc68225ee64750481adca13524cd30d7d599bdf0f1"

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def load_private_key(cfg: KeyConfig) -> PrivateKey:
    key = serialization.load_pem_private_key(cfg.pem(), password=None)
    _check_type(cfg, key)
    return key  # type: ignore[return-value]


def load_public_key(cfg: KeyConfig) -> PublicKey:
    key = serialization.load_pem_public_key(cfg.pem())
    _check_type(cfg, key)
    return key  # type: ignore[return-value]


def _check_type(cfg: KeyConfig, key: object) -> None:
    if cfg.type == "RSA" and not isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        raise ValueError("key type is RSA but the PEM holds another kind of key")
    if cfg.type == "EC":
        if not isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
            raise ValueError("key type is EC but the PEM holds another kind of key")
        if key.curve.name != "secp256r1":
            raise ValueError("EC keys must be on P-256")


def to_jwk(key: PrivateKey | PublicKey) -> jwk.JWK:
    if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    else:
        pem = key.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return jwk.JWK.from_pem(pem)


def spki_fingerprint(key: PrivateKey | PublicKey) -> str:
    public = key.public_key() if hasattr(key, "private_bytes") else key  # type: ignore[union-attr]
    der = public.public_bytes(serialization.Encoding.DER,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def is_published_test_key(key: PrivateKey | PublicKey) -> bool:
    return spki_fingerprint(key) == PUBLISHED_TEST_KEY_SPKI_SHA256


def published_test_keys(settings: Settings) -> list[str]:
    """The token key settings that hold the published ID Contact test key; an unusable key
    is a :class:`SettingsError`."""
    found, problems = [], []
    for name, loader, cfg in (("tokens.decryption_privkey", load_private_key, settings.tokens.decryption_privkey),
                              ("tokens.signature_pubkey", load_public_key, settings.tokens.signature_pubkey)):
        try:
            key = loader(cfg)
        except (ValueError, TypeError, OSError) as exc:  # the PEM's text is never quoted
            problems.append(f"{name}: unusable key ({type(exc).__name__}: {exc})")
            continue
        if is_published_test_key(key):
            found.append(name)
    if problems:
        raise SettingsError(problems)
    return found


def refuse_test_keys_outside_demo(settings: Settings) -> None:
    """The published test keys let anyone forge tokens: only with ``demo.enabled``.

    Raises :class:`SettingsError` saying how to fix it; with the flag, warns loudly.
    """
    found = published_test_keys(settings)
    if found and not settings.demo.enabled:
        raise SettingsError([
            f"{name} is the PUBLISHED ID Contact test key: anyone can read and forge tokens "
            "with it. Configure the key pair agreed with the ID Contact operators, or, for a "
            "demo or a test only, set demo.enabled = true (IDCHAT_DEMO_ENABLED=true)"
            for name in found])
    if found:
        banner = "!" * 72
        log.warning("%s\n!! %s use(s) the PUBLISHED ID Contact TEST KEY (demo.enabled is on).\n"
                    "!! Anyone can read and forge these tokens. Demo and tests ONLY.\n%s",
                    banner, ", ".join(found), banner)
