"""IAM groups and their members."""

from __future__ import annotations

from ..registry import Call, NoSuchEntity, operation
from . import common as c
from .users import user_shape


def group_shape(row: dict) -> dict:
    return {"Path": row["path"], "GroupName": row["name"], "GroupId": row["id"], "Arn": row["arn"],
            "CreateDate": row["created"]}


def group_arn(call: Call) -> str:
    return c.entity_arn(call, "group", call.params.get("GroupName"), call.params.get("Path"))


@operation("iam", "CreateGroup", resource=group_arn, mutating=True)
def create_group(call: Call) -> dict:
    name, path = call.params["GroupName"], call.params.get("Path", "/")
    row = c.insert(call, "group", name, path, c.path_arn(call, "group", name, path), {},
                   f"Group with name {name} already exists.")
    return {"Group": group_shape(row)}


def members(call: Call, group: str) -> list[dict]:
    names = [n for (n,) in call.db.execute("SELECT user_name FROM members WHERE account = ? AND group_name = ? "
                                           "ORDER BY user_name COLLATE NOCASE", (call.account, group))]
    return [user_shape(call, u) for u in (call.store.entity(call.account, "user", n, call.db) for n in names) if u]


@operation("iam", "GetGroup", resource=group_arn)
def get_group(call: Call) -> dict:
    row = c.entity(call, "group", call.params["GroupName"])
    return {"Group": group_shape(row), "Users": members(call, row["name"])}


@operation("iam", "ListGroups", resource=lambda call: c.list_arn(call, "group"))
def list_groups(call: Call) -> dict:
    return {"Groups": [group_shape(r) for r in c.listed(call, "group", call.params.get("PathPrefix"))]}


@operation("iam", "UpdateGroup", resource=group_arn, mutating=True)
def update_group(call: Call) -> None:
    p = call.params
    row = c.entity(call, "group", p["GroupName"])
    name, path = p.get("NewGroupName") or row["name"], p.get("NewPath") or row["path"]
    if name.lower() != row["name"].lower() and c.exists(call, "group", name):
        raise c.EntityAlreadyExists(f"Group with name {name} already exists.")
    old = row["name"]
    call.db.execute("UPDATE entities SET name = ?, path = ?, arn = ? WHERE account = ? AND kind = 'group' AND name = ?",
                    (name, path, c.path_arn(call, "group", name, path), call.account, old))
    for table in ("inline_policies", "attachments"):
        call.db.execute(f"UPDATE {table} SET owner = ? WHERE account = ? AND owner_kind = 'group' AND owner = ?",  # noqa: S608
                        (name, call.account, old))
    call.db.execute("UPDATE members SET group_name = ? WHERE account = ? AND group_name = ?", (name, call.account, old))


@operation("iam", "DeleteGroup", resource=group_arn, mutating=True)
def delete_group(call: Call) -> None:
    row = c.entity(call, "group", call.params["GroupName"])
    a, name = call.account, row["name"]
    c.require_empty(call, "SELECT 1 FROM members WHERE account = ? AND group_name = ?", (a, name),
                    "Cannot delete entity, must remove users from group first.")
    c.require_empty(call, "SELECT 1 FROM inline_policies WHERE account = ? AND owner_kind = 'group' AND owner = ?",
                    (a, name), "Cannot delete entity, must delete policies first.")
    c.require_empty(call, "SELECT 1 FROM attachments WHERE account = ? AND owner_kind = 'group' AND owner = ?",
                    (a, name), "Cannot delete entity, must detach all policies first.")
    c.delete_owned(call, "group", name)


@operation("iam", "AddUserToGroup", resource=group_arn, mutating=True)
def add_user_to_group(call: Call) -> None:
    group = c.entity(call, "group", call.params["GroupName"])
    user = c.entity(call, "user", call.params["UserName"])
    # IAM quota: "Groups an IAM user can be a member of: 10".
    count = call.db.execute("SELECT COUNT(*) FROM members WHERE account = ? AND user_name = ? AND group_name != ?",
                            (call.account, user["name"], group["name"])).fetchone()[0]
    if count >= 10:
        raise c.LimitExceeded("Cannot exceed quota for GroupsPerUser: 10")
    call.db.execute("INSERT OR IGNORE INTO members VALUES (?, ?, ?)", (call.account, group["name"], user["name"]))


@operation("iam", "RemoveUserFromGroup", resource=group_arn, mutating=True)
def remove_user_from_group(call: Call) -> None:
    group = c.entity(call, "group", call.params["GroupName"])
    user = c.entity(call, "user", call.params["UserName"])
    gone = call.db.execute("DELETE FROM members WHERE account = ? AND group_name = ? AND user_name = ?",
                           (call.account, group["name"], user["name"])).rowcount
    if not gone:
        raise NoSuchEntity(f"The user with name {user['name']} cannot be found in group {group['name']}.")


@operation("iam", "ListGroupsForUser",
           resource=lambda call: c.entity_arn(call, "user", call.params.get("UserName")))
def list_groups_for_user(call: Call) -> dict:
    user = c.entity(call, "user", call.params["UserName"])
    names = [n for (n,) in call.db.execute("SELECT group_name FROM members WHERE account = ? AND user_name = ? "
                                           "ORDER BY group_name COLLATE NOCASE", (call.account, user["name"]))]
    return {"Groups": [group_shape(g) for g in (call.store.entity(call.account, "group", n, call.db) for n in names)
                       if g]}
