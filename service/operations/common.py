"""What the IAM operations share: unique ids, entity rows, tags, policy
documents checked by the project's validator, and the shapes of a User,
Role, Group and Policy as the model names their members."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

from ...translator import PolicyType
from ...validation import validate
from .. import credentials
from ..registry import (DUPLICATE_TAG_KEYS, Call, EntityAlreadyExists, InvalidInput, LimitExceeded, MalformedPolicyDocument, NoSuchEntity,
                        ServiceError, ValidationError, operation)

# IAM's unique-id prefixes (IAM User Guide, IAM identifiers: "Unique identifiers").
PREFIX = {"user": "AIDA", "group": "AGPA", "role": "AROA", "policy": "ANPA", "instance_profile": "AIPA",
          "access_key": "AKIA"}
KIND_WORDS = {"user": "user", "group": "group", "role": "role", "instance_profile": "Instance Profile",
              "policy": "policy"}
# IAM quotas (IAM User Guide, IAM and AWS STS quotas).
MAX_TAGS = 50


def new_id(kind: str) -> str | None:
    """A unique id for an entity of this kind (None for the kinds IAM gives
    none, such as identity providers)."""
    return credentials.new_id(PREFIX[kind]) if kind in PREFIX else None


def now() -> float:
    return time.time()


def encoded(document: str) -> str:
    """A policy document as IAM returns it: URL-encoded (RFC 3986)."""
    return quote(document, safe="")


def check_document(text: str, policy_type: PolicyType = PolicyType.IDENTITY) -> str:
    """The document, or MalformedPolicyDocument with IAM's message for the
    first stage at which IAM rejects it (the validator's aws_error)."""
    findings = [f for f in validate(text, policy_type, catalogue=False) if f.aws_error is not None]
    if findings:
        first = min(findings, key=lambda f: f.aws_error.stage.value)
        err = first.aws_error
        if err.code == "MalformedPolicyDocument":
            raise MalformedPolicyDocument(err.message)
        raise ServiceError(err.message, err.code, 409 if err.code == "LimitExceeded" else 400, True)
    return text


def stored(call: Call, kind: str, name: str, account: str | None = None) -> dict | None:
    """The entity's row, or None. A read-only call reads it once (call.memo, until the next commit: the
    resource's ARN and the handler ask for the same row); a mutating call reads in its transaction."""
    account = account or call.account
    return call.memo(("entity", account, kind, name.lower()),
                     lambda: call.store.entity(account, kind, name, call.db))


def entity(call: Call, kind: str, name: str, account: str | None = None) -> dict:
    row = stored(call, kind, name, account)
    if row is None:
        raise NoSuchEntity(f"The {KIND_WORDS[kind]} with name {name} cannot be found.")
    return row


def exists(call: Call, kind: str, name: str) -> bool:
    return call.store.entity(call.account, kind, name, call.db) is not None


def insert(call: Call, kind: str, name: str, path: str, arn: str, data: dict, already: str) -> dict:
    if exists(call, kind, name):
        raise EntityAlreadyExists(already)
    row = {"account": call.account, "kind": kind, "name": name, "id": new_id(kind), "path": path, "arn": arn,
           "created": now(), "data": data}
    call.db.execute("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (call.account, kind, name, row["id"], path, arn, row["created"], json.dumps(data)))
    return row


def save_data(call: Call, row: dict) -> None:
    call.db.execute("UPDATE entities SET data = ? WHERE account = ? AND kind = ? AND name = ?",
                    (json.dumps(row["data"]), row["account"], row["kind"], row["name"]))


def listed(call: Call, kind: str, prefix: str | None = None) -> list[dict]:
    rows = call.db.execute("SELECT * FROM entities WHERE account = ? AND kind = ? ORDER BY name COLLATE NOCASE",
                           (call.account, kind)).fetchall()
    return [row_dict(r) for r in rows if not prefix or r["path"].startswith(prefix)]


def row_dict(row) -> dict:
    """An entities row as a dict, its data decoded."""
    d = dict(row)
    d["data"] = json.loads(d["data"] or "{}")
    return d


def path_arn(call: Call, kind: str, name: str, path: str | None) -> str:
    return f"arn:aws:iam::{call.account}:{kind}{path or '/'}{name}"


def entity_arn(call: Call, kind: str, name: str | None, default_path: str | None = None) -> str:
    """The ARN of an existing entity (with its path), or as it will be."""
    if not name:
        return "*"
    row = stored(call, kind, name)
    if row is not None:
        return row["arn"]
    return path_arn(call, kind.replace("instance_profile", "instance-profile"), name, default_path)


# ------------------------------------------------------------------ tags

def tags(call: Call, kind: str, name: str) -> list[dict]:
    """The entity's tags in the order they were added (read once per read-only call: call.memo)."""
    return call.memo(("tag_list", call.account, kind, name.lower()), lambda: [
        {"Key": k, "Value": v} for k, v in call.db.execute(
            "SELECT key, value FROM tags WHERE account = ? AND owner_kind = ? AND owner = ? ORDER BY position",
            (call.account, kind, name))])


def add_tags(call: Call, kind: str, name: str, new: list[dict]) -> None:
    """IAM's tag keys are case-insensitive (its own message says so): a key
    given twice in any case is refused, and one already held in another case
    is that tag, its value replaced (the key keeps the case it was added in)."""
    keys = [t["Key"].lower() for t in new]
    if len(set(keys)) != len(keys):
        raise InvalidInput(DUPLICATE_TAG_KEYS)
    current = {t["Key"].lower(): t for t in tags(call, kind, name)}
    if len(current.keys() | set(keys)) > MAX_TAGS:
        raise LimitExceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    position = len(current)
    for t in new:
        held = current.get(t["Key"].lower())
        if held is not None:
            call.db.execute("UPDATE tags SET value = ? WHERE account = ? AND owner_kind = ? AND owner = ? AND key = ?",
                            (t.get("Value", ""), call.account, kind, name, held["Key"]))
        else:
            call.db.execute("INSERT INTO tags VALUES (?, ?, ?, ?, ?, ?)",
                            (call.account, kind, name, t["Key"], t.get("Value", ""), position))
            position += 1


def remove_tags(call: Call, kind: str, name: str, keys: list[str]) -> None:
    for k in keys:  # in any case, as the keys are
        call.db.execute("DELETE FROM tags WHERE account = ? AND owner_kind = ? AND owner = ? AND lower(key) = ?",
                        (call.account, kind, name, k.lower()))


def register_tag_operations(word: str, kind: str, find_row, resource) -> None:
    """Tag{word}, Untag{word} and List{word}Tags for one kind of entity:
    ``find_row(call)`` is the entity the call names (NoSuchEntity in IAM's
    words when there is none), ``resource(call)`` the ARN it is authorized on."""
    @operation("iam", f"Tag{word}", resource=resource, mutating=True)
    def tag(call: Call) -> None:
        add_tags(call, kind, find_row(call)["name"], call.params["Tags"])

    @operation("iam", f"Untag{word}", resource=resource, mutating=True)
    def untag(call: Call) -> None:
        remove_tags(call, kind, find_row(call)["name"], call.params["TagKeys"])

    @operation("iam", f"List{word}Tags", resource=resource)
    def list_tags(call: Call) -> dict:
        return {"Tags": tags(call, kind, find_row(call)["name"])}


def delete_owned(call: Call, kind: str, name: str) -> None:
    for table in ("tags", "inline_policies", "attachments"):
        call.db.execute(f"DELETE FROM {table} WHERE account = ? AND owner_kind = ? AND owner = ?",  # noqa: S608
                        (call.account, kind, name))
    call.db.execute("DELETE FROM entities WHERE account = ? AND kind = ? AND name = ?", (call.account, kind, name))


def boundary_shape(data: dict) -> dict | None:
    arn = data.get("PermissionsBoundary")
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn} if arn else None


def managed_policy(call: Call, arn: str, attachable_message: bool = True) -> dict:
    row = call.store.entity_by_arn(arn, call.db)
    if row is None or row["kind"] != "policy" or row["account"] not in (call.account, "aws"):
        if attachable_message:
            raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
        raise NoSuchEntity(f"Policy {arn} was not found.")
    return row


def require_empty(call: Call, sql: str, args: tuple, message: str) -> None:
    from ..registry import DeleteConflict
    if call.db.execute(sql, args).fetchone():
        raise DeleteConflict(message)


def list_arn(call: Call, kind: str) -> str:
    """The resource a List call is authorized on: the path prefix of its kind
    (``arn:aws:iam::A:user/`` — the ARN AWS's denial messages name)."""
    return f"arn:aws:iam::{call.account}:{kind}{call.params.get('PathPrefix') or '/'}"
