"""Token checking: the known answer, every reject case in CONTRACT.md, RSA and EC."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from jwcrypto import jwe

from tokenlab import (
    ATTRS,
    DATA,
    ec_key,
    idc_private_key,
    idc_public_key,
    jwe_of,
    other_rsa_key,
    token,
)
from xmpp_plugin.errors import InvalidToken
from xmpp_plugin.tokens import TokenVerifier

KNOWN_ANSWER = (DATA / "known-answer.jwe").read_text().strip()


def verifier(**kw: object) -> TokenVerifier:
    return TokenVerifier(idc_private_key(), idc_public_key(), **kw)  # type: ignore[arg-type]


def rejects(tok: str, slug: str, v: TokenVerifier | None = None) -> InvalidToken:
    with pytest.raises(InvalidToken) as info:
        (v or verifier()).check(tok)
    assert info.value.slug == slug, info.value.detail
    return info.value


def test_known_answer_accepted_with_clock_at_issue_time() -> None:
    result = verifier(clock=lambda: 1615879900).check(KNOWN_ANSWER)
    assert result.verified is True
    assert result.attributes == {"email": "bla"}
    assert (result.issued_at, result.expires_at) == (1615879800, 1615880100)


def test_known_answer_rejected_as_expired_with_real_clock() -> None:
    rejects(KNOWN_ANSWER, "token-expired")


def test_valid_token_gives_attributes_and_session_url() -> None:
    result = verifier().check(token(session_url="https://core.example/session/1"))
    assert result.attributes == ATTRS
    assert result.session_url == "https://core.example/session/1"
    assert len(result.fingerprint) == 64


def test_failed_status_is_accepted_as_not_verified() -> None:
    result = verifier().check(token(None))
    assert result.verified is False
    assert result.attributes == {}


def test_ec_recipient_and_es256_signer() -> None:
    enc, sig = ec_key(1), ec_key(2)
    v = TokenVerifier(enc, sig.public_key())
    tok = token(enc_key=enc.public_key(), sign_key=sig)
    assert json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "=="))["alg"] == "ECDH-ES"
    assert tok.split(".")[1] == ""  # ECDH-ES direct: empty encrypted-key part
    assert v.check(tok).attributes == ATTRS


def test_exp_boundary_is_exclusive_and_leeway_is_configurable() -> None:
    now = int(time.time())
    tok = token(claims={"iat": now - 300, "exp": now})
    rejects(tok, "token-expired", verifier(clock=lambda: now))
    assert verifier(clock=lambda: now, leeway=5).check(tok).verified


@pytest.mark.parametrize("future_claim", ["nbf", "iat"])
def test_tokens_from_the_future_are_rejected(future_claim: str) -> None:
    rejects(token(claims={future_claim: int(time.time()) + 60}), "token-not-yet-valid")


@pytest.mark.parametrize("claims,slug", [
    ({"sub": "something-else"}, "token-claims"),
    ({"status": "success"}, "token-claims"),
    ({"attributes": {"bsn": 123}}, "token-claims"),
    ({"attributes": ["bsn"]}, "token-claims"),
    ({"session_url": 7}, "token-claims"),
    ({"exp": "soon"}, "token-claims"),
])
def test_bad_claims_are_rejected(claims: dict[str, object], slug: str) -> None:
    rejects(token(claims=claims), slug)


@pytest.mark.parametrize("missing", ["status", "exp", "iat", "attributes"])
def test_missing_claims_are_rejected(missing: str) -> None:
    rejects(token(drop=[missing]), "token-claims")


def test_wrong_jwe_alg_is_rejected() -> None:
    rejects(jwe_of(b"{}", alg="RSA-OAEP-256"), "token-algorithm")


def test_wrong_enc_is_rejected() -> None:
    rejects(jwe_of(b"{}", enc="A256GCM"), "token-algorithm")


def test_ecdh_token_to_rsa_recipient_is_rejected() -> None:
    rejects(token(enc_key=ec_key(1).public_key()), "token-algorithm")


def test_token_for_another_recipient_does_not_decrypt() -> None:
    rejects(token(enc_key=other_rsa_key().public_key()), "token-decryption")


@pytest.mark.parametrize("part", [2, 3, 4])
def test_tampered_jwe_parts_are_rejected(part: int) -> None:
    parts = token().split(".")
    raw = bytearray(base64.urlsafe_b64decode(parts[part] + "=" * (-len(parts[part]) % 4)))
    raw[len(raw) // 2] ^= 0x01
    parts[part] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    rejects(".".join(parts), "token-decryption")


def test_bad_signature_is_rejected() -> None:
    rejects(token(sign_key=other_rsa_key()), "token-signature")


def test_inner_hs256_and_none_are_rejected() -> None:
    claims = {"sub": "id-contact-attributes", "status": "succes", "attributes": {},
              "iat": int(time.time()), "exp": int(time.time()) + 300}
    hs = jwt.encode(claims, "secret-secret-secret-secret-secret!", algorithm="HS256")
    rejects(jwe_of(json.dumps({"njwt": hs}).encode()), "token-algorithm")
    unsigned = jwt.encode(claims, None, algorithm="none")
    rejects(jwe_of(json.dumps({"njwt": unsigned}).encode()), "token-algorithm")


def test_plain_jws_without_njwt_wrapper_is_rejected() -> None:
    inner = jwt.encode({"sub": "id-contact-attributes"}, idc_private_key(), algorithm="RS256")
    rejects(jwe_of(inner.encode()), "token-malformed")


@pytest.mark.parametrize("payload,slug", [
    (b'{"jwt": "x"}', "token-claims"),
    (b'{"njwt": 5}', "token-claims"),
    (b'["njwt"]', "token-claims"),
    (b'{"njwt": "not.a.jws"}', "token-malformed"),
    (b"\xff\xfe", "token-malformed"),
])
def test_bad_wrapper_is_rejected(payload: bytes, slug: str) -> None:
    rejects(jwe_of(payload), slug)


@pytest.mark.parametrize("text", ["", "abc", "a.b.c", "a.b.c.d.e", "!!!!.b.c.d.e",
                                  base64.urlsafe_b64encode(b"[1]").decode() + ".b.c.d.e"])
def test_malformed_compact_serialisation_is_rejected(text: str) -> None:
    rejects(text, "token-malformed")


def test_error_details_never_quote_claim_values() -> None:
    hostile = {"bsn": "<script>alert(1)</script>"}
    err = rejects(token(claims={"attributes": hostile, "status": "weird"}), "token-claims")
    assert "status" in err.detail                  # the control: a real message, naming the claim
    assert "script" not in err.detail and "weird" not in err.detail


# -- bounded work: sizes, compression and nesting are refused before the expensive steps ---


def spy_on_decryption(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every JWE decryption (jwcrypto's deserialize with a key) and let it happen."""
    calls: list[str] = []
    original = jwe.JWE.deserialize

    def spy(self: jwe.JWE, raw: str, key: object = None) -> None:
        calls.append(raw[:16])
        original(self, raw, key)
    monkeypatch.setattr(jwe.JWE, "deserialize", spy)
    return calls


def test_compressed_token_is_refused_before_any_decryption_or_inflation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # 11 MiB of padding deflates to some 11 kB: the bomb of the attack report.
    plaintext = b'{"njwt": "x", "pad": "' + b"0" * (11 * 2**20) + b'"}'
    bomb = jwe_of(plaintext, zip="DEF")
    assert len(bomb) < 16384
    calls = spy_on_decryption(monkeypatch)
    rejects(bomb, "token-compressed")
    assert calls == []                                   # the envelope was never opened
    assert verifier().check(token()).verified            # positive control: the spy sees a call
    assert len(calls) == 1


def test_compressed_valid_token_is_refused_too() -> None:
    njwt = jwt.encode({"sub": "id-contact-attributes", "status": "failed",
                       "iat": int(time.time()), "exp": int(time.time()) + 300},
                      idc_private_key(), algorithm="RS256")
    tok = jwe_of(json.dumps({"njwt": njwt}).encode(), zip="DEF")
    rejects(tok, "token-compressed")
    assert verifier().check(jwe_of(json.dumps({"njwt": njwt}).encode())).verified is False


def test_oversized_token_and_headers_are_refused_before_decoding(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = spy_on_decryption(monkeypatch)
    rejects(token() + "A" * 16384, "token-too-large")
    big_header = base64.urlsafe_b64encode(json.dumps(
        {"alg": "RSA-OAEP", "enc": "A128CBC-HS256", "x": "y" * 2000}).encode()).decode()
    rejects(big_header + ".b.c.d.e", "token-too-large")
    assert calls == []


def test_oversized_inner_jws_header_is_refused() -> None:
    rejects(token(jws_headers={"x": "y" * 2000}), "token-too-large")
    assert verifier().check(token(jws_headers={"x": "y" * 20})).verified   # a small extra is fine


@pytest.mark.parametrize("payload", [
    b"[" * 5000 + b"]" * 5000,
    b'{"njwt": ' + b"[" * 5000 + b"]" * 5000 + b"}",
])
def test_deeply_nested_payload_is_malformed_not_a_crash(payload: bytes) -> None:
    rejects(jwe_of(payload), "token-malformed")


def test_deeply_nested_inner_claims_are_malformed_not_a_crash() -> None:
    header = base64.urlsafe_b64encode(b'{"typ":"JWT","alg":"RS256"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(b"[" * 2000 + b"]" * 2000).rstrip(b"=")
    signing_input = header + b"." + body
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    sig = idc_private_key().sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    njwt = (signing_input + b"." + base64.urlsafe_b64encode(sig).rstrip(b"=")).decode()
    rejects(jwe_of(json.dumps({"njwt": njwt}).encode()), "token-malformed")


NOW = 1_800_000_000


@pytest.mark.parametrize("claims", [
    {"exp": 10**30},                          # overflowed the replay memory's Redis TTL
    {"exp": NOW + 3600 + 60},                 # longer than any ID Contact token lives
    {"iat": -1},
    {"nbf": -5},
])
def test_time_claims_out_of_range_are_refused(claims: dict[str, int]) -> None:
    rejects(token(now=NOW, claims=claims), "token-time-range", verifier(clock=lambda: NOW))
    assert verifier(clock=lambda: NOW).check(token(now=NOW)).verified   # the same, in range


def test_an_hour_of_validity_is_the_limit() -> None:
    now = int(time.time())
    assert verifier(clock=lambda: now).check(token(claims={"iat": now, "exp": now + 3600})).verified
    rejects(token(claims={"iat": now, "exp": now + 3601}), "token-time-range", verifier(clock=lambda: now))
