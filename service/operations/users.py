"""IAM users, their tags and permissions boundaries."""

from __future__ import annotations

from ..registry import Call, operation
from . import common as c


def user_shape(call: Call, row: dict, with_tags: bool = False) -> dict:
    out = {"Path": row["path"], "UserName": row["name"], "UserId": row["id"], "Arn": row["arn"],
           "CreateDate": row["created"], "PermissionsBoundary": c.boundary_shape(row["data"])}
    if with_tags:
        out["Tags"] = c.tags(call, "user", row["name"]) or None
    return out


def user_arn(call: Call) -> str:
    name = call.params.get("UserName")
    if not name and call.caller is not None:
        return call.caller.arn if call.caller.kind in ("user", "root") else "*"
    return c.entity_arn(call, "user", name, call.params.get("Path"))


@operation("iam", "CreateUser", resource=user_arn, mutating=True)
def create_user(call: Call) -> dict:
    p = call.params
    name, path = p["UserName"], p.get("Path", "/")
    data = {}
    if p.get("PermissionsBoundary"):
        c.managed_policy(call, p["PermissionsBoundary"])
        data["PermissionsBoundary"] = p["PermissionsBoundary"]
    row = c.insert(call, "user", name, path, c.path_arn(call, "user", name, path), data,
                   f"User with name {name} already exists.")
    if p.get("Tags"):
        c.add_tags(call, "user", name, p["Tags"])
    return {"User": user_shape(call, row, with_tags=True)}


@operation("iam", "GetUser", resource=user_arn)
def get_user(call: Call) -> dict:
    name = call.params.get("UserName")
    if not name and call.caller.kind == "root":
        account = call.store.account(call.account)
        return {"User": {"Path": "/", "UserName": "", "UserId": call.account, "Arn": call.caller.arn,
                         "CreateDate": account["created"]}}
    if not name and call.caller.kind != "user":
        raise c.ValidationError("Must specify userName when calling with non-User credentials")
    row = c.entity(call, "user", name or call.caller.name)
    return {"User": user_shape(call, row, with_tags=True)}


@operation("iam", "ListUsers", resource=lambda call: c.list_arn(call, "user"))
def list_users(call: Call) -> dict:
    return {"Users": [user_shape(call, r) for r in c.listed(call, "user", call.params.get("PathPrefix"))]}


@operation("iam", "UpdateUser", resource=user_arn, mutating=True)
def update_user(call: Call) -> None:
    p = call.params
    row = c.entity(call, "user", p["UserName"])
    name, path = p.get("NewUserName") or row["name"], p.get("NewPath") or row["path"]
    if name.lower() != row["name"].lower() and c.exists(call, "user", name):
        raise c.EntityAlreadyExists(f"User with name {name} already exists.")
    old = row["name"]
    call.db.execute("UPDATE entities SET name = ?, path = ?, arn = ? WHERE account = ? AND kind = 'user' AND name = ?",
                    (name, path, c.path_arn(call, "user", name, path), call.account, old))
    for table, column in (("tags", "owner"), ("inline_policies", "owner"), ("attachments", "owner")):
        call.db.execute(f"UPDATE {table} SET {column} = ? WHERE account = ? AND owner_kind = 'user' AND owner = ?",  # noqa: S608
                        (name, call.account, old))
    call.db.execute("UPDATE members SET user_name = ? WHERE account = ? AND user_name = ?", (name, call.account, old))
    call.db.execute("UPDATE access_keys SET user_name = ? WHERE account = ? AND user_name = ?",
                    (name, call.account, old))


@operation("iam", "DeleteUser", resource=user_arn, mutating=True)
def delete_user(call: Call) -> None:
    name = call.params["UserName"]
    row = c.entity(call, "user", name)
    a = call.account
    c.require_empty(call, "SELECT 1 FROM access_keys WHERE account = ? AND user_name = ?", (a, name),
                    "Cannot delete entity, must delete access keys first.")
    if row["data"].get("LoginProfile"):
        raise c.ServiceError("Cannot delete entity, must delete login profile first.", "DeleteConflict", 409, True)
    c.require_empty(call, "SELECT 1 FROM members WHERE account = ? AND user_name = ?", (a, name),
                    "Cannot delete entity, must remove users from group first.")
    c.require_empty(call, "SELECT 1 FROM inline_policies WHERE account = ? AND owner_kind = 'user' AND owner = ?",
                    (a, name), "Cannot delete entity, must delete policies first.")
    c.require_empty(call, "SELECT 1 FROM attachments WHERE account = ? AND owner_kind = 'user' AND owner = ?",
                    (a, name), "Cannot delete entity, must detach all policies first.")
    if row["data"].get("MFADevices"):
        raise c.ServiceError("Cannot delete entity, must delete MFA device first.", "DeleteConflict", 409, True)
    c.delete_owned(call, "user", row["name"])


c.register_tag_operations("User", "user", lambda call: c.entity(call, "user", call.params["UserName"]), user_arn)


@operation("iam", "PutUserPermissionsBoundary", resource=user_arn, mutating=True)
def put_user_boundary(call: Call) -> None:
    row = c.entity(call, "user", call.params["UserName"])
    c.managed_policy(call, call.params["PermissionsBoundary"])
    row["data"]["PermissionsBoundary"] = call.params["PermissionsBoundary"]
    c.save_data(call, row)


@operation("iam", "DeleteUserPermissionsBoundary", resource=user_arn, mutating=True)
def delete_user_boundary(call: Call) -> None:
    row = c.entity(call, "user", call.params["UserName"])
    row["data"].pop("PermissionsBoundary", None)
    c.save_data(call, row)
