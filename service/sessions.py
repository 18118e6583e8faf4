"""Temporary credentials and virtual MFA devices in the store, and the key
lookup SigV4 verification uses.

Tables (registered with the store; ``ensure(store)`` creates them in a file
opened before this module was imported):

* sessions(access_key_id, account, secret, token_digest, expiration, caller
  JSON, created) — STS's credentials. The session token itself is not kept,
  only its sha256 (sigv4.token_digest): a token is a bearer secret and needs
  only to be recognised. The secret access key is kept, as for long-term
  keys, because verifying a signature needs it.
* mfa_devices(serial, account, name, path, seed, user_name, enabled,
  last_step, created, tags JSON, drift) — virtual devices; ``last_step`` is
  the TOTP step of the last code accepted (replay refusal, service/mfa.py),
  ``drift`` the device's clock offset in steps (ResyncMFADevice).

``lookup(store, access_key_id)`` finds the ASIA… keys of sessions for
``sigv4.verify`` (registered with auth.py, which looks up the long-term
keys); the SigningKey's owner is the session's Caller.
"""

from __future__ import annotations

import json
import time
import weakref
from dataclasses import asdict

from . import mfa
from .credentials import TemporaryCredentials
from .identity import Caller
from .sigv4 import SigningKey, token_digest
from .auth import register_key_lookup
from .store import Store, register_schema

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sessions (access_key_id TEXT PRIMARY KEY, account TEXT, secret TEXT,
        token_digest TEXT, expiration REAL, caller TEXT, created REAL)""",
    """CREATE INDEX IF NOT EXISTS sessions_expiration ON sessions (expiration)""",
    """CREATE TABLE IF NOT EXISTS mfa_devices (serial TEXT PRIMARY KEY, account TEXT, name TEXT COLLATE NOCASE,
        path TEXT, seed TEXT, user_name TEXT COLLATE NOCASE, enabled REAL, last_step INTEGER, created REAL,
        tags TEXT, drift INTEGER DEFAULT 0)""",
    """CREATE INDEX IF NOT EXISTS mfa_devices_user ON mfa_devices (account, user_name)""",
)
register_schema(*SCHEMA)
_READY: "weakref.WeakSet[Store]" = weakref.WeakSet()
# An expired session is kept a day, so that its key is answered ExpiredToken, not InvalidClientTokenId.
KEEP_EXPIRED_SECONDS = 86400


def ensure(store: Store) -> None:
    if store in _READY:
        return
    db = store.connection()
    for sql in SCHEMA:
        db.execute(sql)
    _READY.add(store)


# ------------------------------------------------------------------ callers

def caller_to_json(caller: Caller) -> str:
    d = asdict(caller)
    d["session_tags"] = [list(t) for t in caller.session_tags]
    return json.dumps(d)


def caller_from_json(text: str) -> Caller:
    d = json.loads(text)
    d["session_policies"] = tuple(d.get("session_policies") or ())
    d["session_tags"] = tuple(tuple(t) for t in d.get("session_tags") or ())
    return Caller(**d)


def save(db, creds: TemporaryCredentials, caller: Caller) -> None:
    """Keep new temporary credentials (inside the issuing call's transaction)."""
    now = time.time()
    db.execute("DELETE FROM sessions WHERE expiration < ?", (now - KEEP_EXPIRED_SECONDS,))
    db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)",
               (creds.access_key_id, caller.account, creds.secret_access_key, token_digest(creds.session_token),
                creds.expiration, caller_to_json(caller), now))


def session_row(db, access_key_id: str):
    return db.execute("SELECT * FROM sessions WHERE access_key_id = ?", (access_key_id,)).fetchone()


# STS API Reference, GetSessionToken: its credentials "cannot call any STS API except AssumeRole or
# GetCallerIdentity" (with MFA or without).
GET_SESSION_TOKEN_STS_CALLS = frozenset({"AssumeRole", "GetCallerIdentity"})


def refused_sts_call(caller, operation: str) -> str | None:
    """AccessDenied's message when ``caller``'s credentials cannot call the STS ``operation`` at all, else
    None. AWS's words for GetSessionToken and GetFederationToken called with session credentials are
    "Cannot call GetSessionToken with session credentials"; the other operations are answered alike."""
    if caller is None or caller.extra.get("issued_by") != "GetSessionToken":
        return None
    if operation in GET_SESSION_TOKEN_STS_CALLS:
        return None
    return f"Cannot call {operation} with session credentials"


def accept_code(db, device, code: str) -> bool:
    """Whether ``code`` is good for the device now (and not a replay); records its step when it is."""
    step = mfa.check(device["seed"], code, device["last_step"], drift=device["drift"] or 0)
    if step is None:
        return False
    db.execute("UPDATE mfa_devices SET last_step = ? WHERE serial = ?", (step, device["serial"]))
    return True


# ------------------------------------------------------------------ key lookup

def lookup(store: Store, access_key_id: str) -> SigningKey | None:
    """The temporary credentials ``access_key_id`` names (auth.py asks, after the long-term keys)."""
    if not access_key_id.startswith("ASIA"):
        return None
    ensure(store)
    row = session_row(store.connection(), access_key_id)
    if row is None:
        return None
    caller = caller_from_json(row["caller"])
    # GetSessionToken's credentials without MFA do not sign IAM calls (sigv4.SigningKey.services).
    no_iam = caller.extra.get("issued_by") == "GetSessionToken" and caller.mfa_authenticated_at is None
    return SigningKey(row["secret"], token_digest=row["token_digest"], expiration=row["expiration"],
                      owner=caller, services=frozenset({"sts"}) if no_iam else None)


register_key_lookup(lookup)
