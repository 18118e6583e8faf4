"""``authenticate(request, form, store) -> Caller``: the request's SigV4
signature verified (service/sigv4.py) against the keys the store holds.

Long-term keys (the root user's and IAM users') are the store's access_keys
table. Temporary credentials are found by the lookups other modules register
with ``register_key_lookup(fn)``: ``fn(store, access_key_id)`` returns a
``sigv4.SigningKey`` whose ``owner`` is the session's ``Caller``, or None.
"""

from __future__ import annotations

from collections.abc import Callable

from . import sigv4
from .identity import Caller
from .store import Store

KeyLookup = Callable[[Store, str], "sigv4.SigningKey | None"]
_LOOKUPS: list[KeyLookup] = []
_SIGNING_NAMES = {"2010-05-08": "iam", "2011-06-15": "sts"}


def register_key_lookup(fn: KeyLookup) -> KeyLookup:
    _LOOKUPS.append(fn)
    return fn


def caller_for_key(store: Store, row) -> Caller | None:
    """The long-term caller an access key row names (root or IAM user)."""
    account = row["account"]
    if row["user_name"] is None:
        return Caller(account, f"arn:aws:iam::{account}:root", "root", "", account, row["id"])
    user = store.entity(account, "user", row["user_name"])
    if user is None:
        return None
    return Caller(account, user["arn"], "user", user["name"], user["id"], row["id"])


def _long_term(store: Store, access_key_id: str) -> sigv4.SigningKey | None | bool:
    row = store.access_key(access_key_id)
    if row is None:
        return False
    caller = caller_for_key(store, row)
    return None if caller is None else sigv4.SigningKey(row["secret"], row["status"], owner=caller)


def lookup(store: Store, access_key_id: str) -> sigv4.SigningKey | None:
    # Remembered until the next commit (store.fresh runs at the start of every request).
    found = store.memo(("access_key", access_key_id), lambda: _long_term(store, access_key_id))
    if found is not False:
        return found
    for fn in _LOOKUPS:
        found = fn(store, access_key_id)
        if found is not None:
            return found
    return None


def authenticate(request, form: dict, store: Store) -> Caller:
    scope = request.scope
    verified = sigv4.verify(request.method, scope.get("raw_path", b"/").decode("latin-1") or "/",
                            scope.get("query_string", b"").decode("latin-1"), scope["headers"],
                            getattr(request.state, "body", b""), lambda key: lookup(store, key),
                            service=_SIGNING_NAMES.get(form.get("Version", "2010-05-08"), "iam"))
    return verified.owner
