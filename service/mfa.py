"""Virtual MFA devices: TOTP (RFC 6238) with pyotp — 30-second steps, six digits, SHA-1,
as AWS's virtual devices and every authenticator app use.

* ``new_seed()`` — a fresh secret, as the Base32 text AWS returns in
  CreateVirtualMFADevice's ``Base32StringSeed`` (the Query protocol sends that
  blob base64-encoded; the client decodes it back to this text).
* ``otpauth_uri(seed, account_name, issuer)`` — what AWS's QR code encodes.
* ``enable_step(seed, code1, code2)`` — EnableMFADevice: two *consecutive*
  codes, the second one current (±1 step); returns the second code's step,
  to be stored as the device's last used step, or None.
* ``check(seed, code, last_step)`` — one code at sign-in or in
  GetSessionToken / AssumeRole: accepted within ±1 step of now, and only if
  its step is later than the last one used (a code is good once: replay
  refused); returns the step to store, or None.
* ``resync_step(seed, code1, code2)`` — ResyncMFADevice: two consecutive
  codes anywhere within ±10 minutes; the step found, less the current one,
  is the device's drift, which later checks are centred on.

Codes are compared in constant time; the seed never leaves this module in a
message.
"""

from __future__ import annotations

import base64
import hmac
import os
import time

import pyotp

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1                # steps either side of now for one code
RESYNC_WINDOW = 20        # steps either side (±10 min) when resynchronizing
_SEED_BYTES = 20          # 160 bits, RFC 4226's recommended key length


def new_seed() -> str:
    return base64.b32encode(os.urandom(_SEED_BYTES)).decode("ascii")


def otpauth_uri(seed: str, account_name: str, issuer: str = "iamlogic") -> str:
    return pyotp.TOTP(seed).provisioning_uri(name=account_name, issuer_name=issuer)


def code_at(seed: str, step: int) -> str:
    """The code of one step (tests and the demo compute codes with it)."""
    return pyotp.TOTP(seed, digits=DIGITS, interval=STEP_SECONDS).at(step * STEP_SECONDS)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def _matches(seed: str, code: str, step: int) -> bool:
    return hmac.compare_digest(code_at(seed, step).encode(), str(code).strip().encode())


def _well_formed(code: object) -> bool:
    text = str(code).strip()
    return len(text) == DIGITS and text.isdigit()


def check(seed: str, code: str, last_step: int | None = None, now: float | None = None, drift: int = 0) -> int | None:
    """``drift``: the device's clock offset in steps, as ResyncMFADevice measured it."""
    if not _well_formed(code):
        return None
    cur = current_step(now) + drift
    for step in range(cur - WINDOW, cur + WINDOW + 1):
        if _matches(seed, code, step):
            return step if last_step is None or step > last_step else None
    return None


def _consecutive(seed: str, code1: str, code2: str, around: int, window: int) -> int | None:
    if not (_well_formed(code1) and _well_formed(code2)):
        return None
    for step in range(around - window, around + window + 1):
        if _matches(seed, code1, step - 1) and _matches(seed, code2, step):
            return step
    return None


def enable_step(seed: str, code1: str, code2: str, now: float | None = None) -> int | None:
    return _consecutive(seed, code1, code2, current_step(now), WINDOW)


def resync_step(seed: str, code1: str, code2: str, now: float | None = None) -> int | None:
    return _consecutive(seed, code1, code2, current_step(now), RESYNC_WINDOW)
