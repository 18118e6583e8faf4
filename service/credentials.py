"""Access key ids, secrets, session tokens and unique ids, shaped as AWS's.

AWS's ids are a four-letter prefix naming the kind and sixteen characters of
base32 (IAM User Guide, "IAM identifiers", unique ID prefixes): AKIA a
long-term access key, ASIA a temporary one (STS), AIDA a user, AROA a role,
AGPA a group, ANPA a managed policy, AIPA an instance profile.  Secrets are
40 characters (base64 alphabet, as AWS's); session tokens are long opaque
text.  All come from ``secrets`` (the OS's CSPRNG).
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_id(prefix: str) -> str:
    """``prefix`` + 16 base32 characters: AKIA…, ASIA…, AIDA…, AROA…"""
    return prefix + "".join(secrets.choice(_B32) for _ in range(16))


def new_secret() -> str:
    return base64.b64encode(secrets.token_bytes(30)).decode("ascii")


def new_session_token() -> str:
    # AWS's tokens are several hundred characters; ours need only be unguessable.
    return "IQoJb3JpZ2luX2Vj" + secrets.token_urlsafe(96)


@dataclass(frozen=True)
class TemporaryCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: float                     # epoch seconds

    def as_shape(self) -> dict:
        """STS's ``Credentials`` shape (Expiration as a UTC datetime)."""
        from datetime import datetime, timezone
        return {"AccessKeyId": self.access_key_id, "SecretAccessKey": self.secret_access_key,
                "SessionToken": self.session_token,
                "Expiration": datetime.fromtimestamp(int(self.expiration), timezone.utc)}


def issue(duration_seconds: int, now: float | None = None) -> TemporaryCredentials:
    start = time.time() if now is None else now
    return TemporaryCredentials(new_id("ASIA"), new_secret(), new_session_token(), start + duration_seconds)
