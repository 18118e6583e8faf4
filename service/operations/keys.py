"""Access keys (two per user, Active/Inactive) and account aliases."""

from __future__ import annotations

import re

from .. import credentials
from ..registry import Call, EntityAlreadyExists, LimitExceeded, NoSuchEntity, ValidationError, operation
from . import common as c

# IAM quota: "Access keys assigned to an IAM user: 2" (and to the root user: 2).
MAX_KEYS = 2
new_secret = credentials.new_secret


def key_owner(call: Call) -> str | None:
    """The user whose keys the call is about: UserName, else the caller
    (None: the root user's own keys)."""
    name = call.params.get("UserName")
    if name:
        return c.entity(call, "user", name)["name"]
    if call.caller.kind == "user":
        return call.caller.name
    if call.caller.kind == "root":
        return None
    raise ValidationError("Must specify userName when calling with non-User credentials")


def key_arn(call: Call) -> str:
    name = call.params.get("UserName")
    if name:
        return c.entity_arn(call, "user", name)
    return call.caller.arn if call.caller.kind in ("user", "root") else "*"


def _keys(call: Call, user: str | None) -> list:
    if user is None:
        return call.db.execute("SELECT * FROM access_keys WHERE account = ? AND user_name IS NULL ORDER BY created",
                               (call.account,)).fetchall()
    return call.db.execute("SELECT * FROM access_keys WHERE account = ? AND user_name = ? ORDER BY created",
                           (call.account, user)).fetchall()


@operation("iam", "CreateAccessKey", resource=key_arn, mutating=True)
def create_access_key(call: Call) -> dict:
    user = key_owner(call)
    if len(_keys(call, user)) >= MAX_KEYS:
        raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}")
    key_id, secret, created = c.new_id("access_key"), new_secret(), c.now()
    call.db.execute("INSERT INTO access_keys VALUES (?, ?, ?, ?, 'Active', ?)",
                    (key_id, call.account, user, secret, created))
    # The only response that ever carries the secret.
    return {"AccessKey": {"UserName": user or "", "AccessKeyId": key_id, "Status": "Active",
                          "SecretAccessKey": secret, "CreateDate": created}}


@operation("iam", "ListAccessKeys", resource=key_arn)
def list_access_keys(call: Call) -> dict:
    user = key_owner(call)
    return {"AccessKeyMetadata": [{"UserName": user, "AccessKeyId": k["id"], "Status": k["status"],
                                   "CreateDate": k["created"]} for k in _keys(call, user)]}


def _key(call: Call, user: str | None):
    key_id = call.params["AccessKeyId"]
    for k in _keys(call, user):
        if k["id"] == key_id:
            return k
    raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")


@operation("iam", "UpdateAccessKey", resource=key_arn, mutating=True)
def update_access_key(call: Call) -> None:
    k = _key(call, key_owner(call))
    call.db.execute("UPDATE access_keys SET status = ? WHERE id = ?", (call.params["Status"], k["id"]))


@operation("iam", "DeleteAccessKey", resource=key_arn, mutating=True)
def delete_access_key(call: Call) -> None:
    k = _key(call, key_owner(call))
    call.db.execute("DELETE FROM access_keys WHERE id = ?", (k["id"],))


def _key_user_arn(call: Call) -> str:
    """iam:GetAccessKeyLastUsed is authorized on the key's user (Service Authorization Reference, IAM)."""
    row = call.store.access_key(call.params["AccessKeyId"])
    if row is None or row["account"] != call.account:
        return "*"
    return c.entity_arn(call, "user", row["user_name"]) if row["user_name"] else f"arn:aws:iam::{call.account}:root"


@operation("iam", "GetAccessKeyLastUsed", resource=_key_user_arn)
def get_access_key_last_used(call: Call) -> dict:
    row = call.store.access_key(call.params["AccessKeyId"])
    if row is None or row["account"] != call.account:
        raise NoSuchEntity(f"The Access Key with id {call.params['AccessKeyId']} cannot be found.")
    return {"UserName": row["user_name"] or "", "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}


# ------------------------------------------------------------------ account aliases

# IAM User Guide, "Creating, deleting, and listing an AWS account alias": lower-case letters, digits and
# hyphens, not starting or ending with a hyphen, not twelve digits.
_ALIAS = re.compile(r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$")


@operation("iam", "CreateAccountAlias", mutating=True)
def create_account_alias(call: Call) -> None:
    alias = call.params["AccountAlias"]
    if not _ALIAS.match(alias) or re.fullmatch(r"\d{12}", alias):
        raise ValidationError(f"Value '{alias}' at 'accountAlias' failed to satisfy constraint: Member must satisfy "
                              "regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$")
    other = call.db.execute("SELECT id FROM accounts WHERE alias = ?", (alias,)).fetchone()
    if other is not None and other[0] != call.account:
        raise EntityAlreadyExists(f"The account alias {alias} already exists.")
    call.db.execute("UPDATE accounts SET alias = ? WHERE id = ?", (alias, call.account))


@operation("iam", "ListAccountAliases")
def list_account_aliases(call: Call) -> dict:
    row = call.store.account(call.account)
    return {"AccountAliases": [row["alias"]] if row and row["alias"] else []}


@operation("iam", "DeleteAccountAlias", mutating=True)
def delete_account_alias(call: Call) -> None:
    alias = call.params["AccountAlias"]
    gone = call.db.execute("UPDATE accounts SET alias = NULL WHERE id = ? AND alias = ?",
                           (call.account, alias)).rowcount
    if not gone:
        raise NoSuchEntity(f"The account alias {alias} cannot be found.")
