"""Passwords (scrypt), TOTP MFA (RFC 6238) and temporary credentials of the service."""

from __future__ import annotations

import base64
import re

import pyotp

from iamlogic.service import credentials, mfa, passwords


def test_password_hash_is_salted_scrypt_and_verifies():
    a, b = passwords.hash_password("Tr0ub4dor&3"), passwords.hash_password("Tr0ub4dor&3")
    assert a != b                                   # salted
    assert a.startswith("scrypt$16384$8$1$") and "Tr0ub4dor" not in a
    assert passwords.verify_password("Tr0ub4dor&3", a)
    assert not passwords.verify_password("Tr0ub4dor&4", a)
    assert not passwords.verify_password("Tr0ub4dor&3", None)
    assert not passwords.verify_password("x", "scrypt$garbage")
    assert not passwords.verify_password("x", "plain-text-password")


def test_password_check_is_constant_time(monkeypatch):
    seen = []
    real = passwords.hmac.compare_digest
    monkeypatch.setattr(passwords.hmac, "compare_digest", lambda a, b: seen.append(1) or real(a, b))
    passwords.verify_password("pw", passwords.hash_password("pw"))
    assert seen


def test_seed_is_base32_of_160_bits():
    seed = mfa.new_seed()
    assert len(base64.b32decode(seed)) == 20
    assert mfa.new_seed() != seed
    assert mfa.otpauth_uri(seed, "alice@123456789012").startswith("otpauth://totp/")


def test_codes_are_rfc6238_totp():
    # RFC 6238 appendix B, SHA-1, T=59 s: 94287082 (8 digits); the six-digit code is its tail.
    seed = base64.b32encode(b"12345678901234567890").decode()
    assert mfa.code_at(seed, 59 // 30) == "287082"
    assert mfa.code_at(seed, 1) == pyotp.TOTP(seed).at(59)


def test_enable_needs_two_consecutive_codes():
    seed, now = mfa.new_seed(), 1_800_000_000.0
    cur = mfa.current_step(now)
    c = {s: mfa.code_at(seed, s) for s in range(cur - 3, cur + 3)}
    assert mfa.enable_step(seed, c[cur - 1], c[cur], now) == cur
    assert mfa.enable_step(seed, c[cur], c[cur + 1], now) == cur + 1      # one step of drift
    assert mfa.enable_step(seed, c[cur], c[cur - 1], now) is None          # wrong order
    assert mfa.enable_step(seed, c[cur - 1], c[cur + 1], now) is None      # not consecutive
    assert mfa.enable_step(seed, c[cur - 3], c[cur - 2], now) is None      # too old


def test_a_code_is_good_within_one_step_and_only_once():
    seed, now = mfa.new_seed(), 1_800_000_000.0
    cur = mfa.current_step(now)
    assert mfa.check(seed, mfa.code_at(seed, cur), None, now) == cur
    assert mfa.check(seed, mfa.code_at(seed, cur - 1), None, now) == cur - 1
    assert mfa.check(seed, mfa.code_at(seed, cur + 1), None, now) == cur + 1
    assert mfa.check(seed, mfa.code_at(seed, cur - 2), None, now) is None
    # replay: the step already used (or an earlier one) is refused
    assert mfa.check(seed, mfa.code_at(seed, cur), cur, now) is None
    assert mfa.check(seed, mfa.code_at(seed, cur - 1), cur, now) is None
    assert mfa.check(seed, mfa.code_at(seed, cur + 1), cur, now) == cur + 1
    for bad in ("", "12345", "1234567", "abcdef", None):
        assert mfa.check(seed, bad, None, now) is None


def test_resync_accepts_drift_of_minutes():
    seed, now = mfa.new_seed(), 1_800_000_000.0
    cur = mfa.current_step(now)
    assert mfa.enable_step(seed, mfa.code_at(seed, cur + 9), mfa.code_at(seed, cur + 10), now) is None
    assert mfa.resync_step(seed, mfa.code_at(seed, cur + 9), mfa.code_at(seed, cur + 10), now) == cur + 10


def test_temporary_credentials_have_aws_shapes():
    creds = credentials.issue(3600, now=1_800_000_000.0)
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", creds.access_key_id)
    assert len(creds.secret_access_key) == 40
    assert len(creds.session_token) > 100
    assert creds.expiration == 1_800_003_600.0
    shape = creds.as_shape()
    assert shape["Expiration"].isoformat() == "2027-01-15T09:00:00+00:00"
    # secrets never in a repr (a log line of the object)
    assert creds.secret_access_key not in repr(creds) and creds.session_token not in repr(creds)
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", credentials.new_id("AKIA"))
    assert credentials.new_id("AIDA") != credentials.new_id("AIDA")


def test_a_check_is_centred_on_the_measured_drift():
    seed, now = mfa.new_seed(), 1_800_000_000.0
    cur = mfa.current_step(now)
    assert mfa.check(seed, mfa.code_at(seed, cur + 6), None, now) is None
    assert mfa.check(seed, mfa.code_at(seed, cur + 6), None, now, drift=6) == cur + 6
    assert mfa.check(seed, mfa.code_at(seed, cur), None, now, drift=6) is None
