"""IAM roles (trust policies, tags, boundaries) and instance profiles."""

from __future__ import annotations

from ...translator import PolicyType
from ..registry import Call, LimitExceeded, NoSuchEntity, operation
from . import common as c

DEFAULT_SESSION = 3600


def role_shape(call: Call, row: dict, with_tags: bool = False) -> dict:
    d = row["data"]
    out = {"Path": row["path"], "RoleName": row["name"], "RoleId": row["id"], "Arn": row["arn"],
           "CreateDate": row["created"], "AssumeRolePolicyDocument": c.encoded(d["AssumeRolePolicyDocument"]),
           "Description": d.get("Description"), "MaxSessionDuration": d.get("MaxSessionDuration", DEFAULT_SESSION),
           "PermissionsBoundary": c.boundary_shape(d)}
    if with_tags:
        out["Tags"] = c.tags(call, "role", row["name"]) or None
        out["RoleLastUsed"] = {}
    return out


def role_arn(call: Call) -> str:
    return c.entity_arn(call, "role", call.params.get("RoleName"), call.params.get("Path"))


@operation("iam", "CreateRole", resource=role_arn, mutating=True)
def create_role(call: Call) -> dict:
    p = call.params
    name, path = p["RoleName"], p.get("Path", "/")
    trust = c.check_document(p["AssumeRolePolicyDocument"], PolicyType.TRUST)
    data = {"AssumeRolePolicyDocument": trust, "Description": p.get("Description"),
            "MaxSessionDuration": p.get("MaxSessionDuration", DEFAULT_SESSION)}
    if p.get("PermissionsBoundary"):
        c.managed_policy(call, p["PermissionsBoundary"])
        data["PermissionsBoundary"] = p["PermissionsBoundary"]
    row = c.insert(call, "role", name, path, c.path_arn(call, "role", name, path), data,
                   f"Role with name {name} already exists.")
    if p.get("Tags"):
        c.add_tags(call, "role", name, p["Tags"])
    return {"Role": role_shape(call, row, with_tags=True)}


@operation("iam", "GetRole", resource=role_arn)
def get_role(call: Call) -> dict:
    return {"Role": role_shape(call, c.entity(call, "role", call.params["RoleName"]), with_tags=True)}


@operation("iam", "ListRoles", resource=lambda call: c.list_arn(call, "role"))
def list_roles(call: Call) -> dict:
    return {"Roles": [role_shape(call, r) for r in c.listed(call, "role", call.params.get("PathPrefix"))]}


@operation("iam", "UpdateRole", resource=role_arn, mutating=True)
def update_role(call: Call) -> None:
    row = c.entity(call, "role", call.params["RoleName"])
    for key in ("Description", "MaxSessionDuration"):
        if key in call.params:
            row["data"][key] = call.params[key]
    c.save_data(call, row)


@operation("iam", "UpdateRoleDescription", resource=role_arn, mutating=True)
def update_role_description(call: Call) -> dict:
    row = c.entity(call, "role", call.params["RoleName"])
    row["data"]["Description"] = call.params["Description"]
    c.save_data(call, row)
    return {"Role": role_shape(call, row)}


@operation("iam", "UpdateAssumeRolePolicy", resource=role_arn, mutating=True)
def update_assume_role_policy(call: Call) -> None:
    row = c.entity(call, "role", call.params["RoleName"])
    row["data"]["AssumeRolePolicyDocument"] = c.check_document(call.params["PolicyDocument"], PolicyType.TRUST)
    c.save_data(call, row)


@operation("iam", "DeleteRole", resource=role_arn, mutating=True)
def delete_role(call: Call) -> None:
    row = c.entity(call, "role", call.params["RoleName"])
    a, name = call.account, row["name"]
    c.require_empty(call, "SELECT 1 FROM profile_roles WHERE account = ? AND role = ?", (a, name),
                    "Cannot delete entity, must remove roles from instance profile first.")
    c.require_empty(call, "SELECT 1 FROM inline_policies WHERE account = ? AND owner_kind = 'role' AND owner = ?",
                    (a, name), "Cannot delete entity, must delete policies first.")
    c.require_empty(call, "SELECT 1 FROM attachments WHERE account = ? AND owner_kind = 'role' AND owner = ?",
                    (a, name), "Cannot delete entity, must detach all policies first.")
    c.delete_owned(call, "role", name)


c.register_tag_operations("Role", "role", lambda call: c.entity(call, "role", call.params["RoleName"]), role_arn)


@operation("iam", "PutRolePermissionsBoundary", resource=role_arn, mutating=True)
def put_role_boundary(call: Call) -> None:
    row = c.entity(call, "role", call.params["RoleName"])
    c.managed_policy(call, call.params["PermissionsBoundary"])
    row["data"]["PermissionsBoundary"] = call.params["PermissionsBoundary"]
    c.save_data(call, row)


@operation("iam", "DeleteRolePermissionsBoundary", resource=role_arn, mutating=True)
def delete_role_boundary(call: Call) -> None:
    row = c.entity(call, "role", call.params["RoleName"])
    row["data"].pop("PermissionsBoundary", None)
    c.save_data(call, row)


# ------------------------------------------------------------------ instance profiles

def profile_arn(call: Call) -> str:
    name = call.params.get("InstanceProfileName")
    row = call.store.entity(call.account, "instance_profile", name, call.db) if name else None
    return row["arn"] if row else c.path_arn(call, "instance-profile", name, call.params.get("Path"))


def profile_shape(call: Call, row: dict) -> dict:
    roles = [call.store.entity(call.account, "role", n, call.db) for (n,) in call.db.execute(
        "SELECT role FROM profile_roles WHERE account = ? AND profile = ?", (call.account, row["name"]))]
    return {"Path": row["path"], "InstanceProfileName": row["name"], "InstanceProfileId": row["id"],
            "Arn": row["arn"], "CreateDate": row["created"], "Roles": [role_shape(call, r) for r in roles if r],
            "Tags": c.tags(call, "instance_profile", row["name"]) or None}


@operation("iam", "CreateInstanceProfile", resource=profile_arn, mutating=True)
def create_instance_profile(call: Call) -> dict:
    name, path = call.params["InstanceProfileName"], call.params.get("Path", "/")
    row = c.insert(call, "instance_profile", name, path, c.path_arn(call, "instance-profile", name, path), {},
                   f"Instance Profile {name} already exists.")
    if call.params.get("Tags"):
        c.add_tags(call, "instance_profile", name, call.params["Tags"])
    return {"InstanceProfile": profile_shape(call, row)}


@operation("iam", "GetInstanceProfile", resource=profile_arn)
def get_instance_profile(call: Call) -> dict:
    return {"InstanceProfile": profile_shape(call, c.entity(call, "instance_profile",
                                                            call.params["InstanceProfileName"]))}


@operation("iam", "ListInstanceProfiles", resource=lambda call: c.list_arn(call, "instance-profile"))
def list_instance_profiles(call: Call) -> dict:
    return {"InstanceProfiles": [profile_shape(call, r) for r in
                                 c.listed(call, "instance_profile", call.params.get("PathPrefix"))]}


@operation("iam", "DeleteInstanceProfile", resource=profile_arn, mutating=True)
def delete_instance_profile(call: Call) -> None:
    row = c.entity(call, "instance_profile", call.params["InstanceProfileName"])
    c.require_empty(call, "SELECT 1 FROM profile_roles WHERE account = ? AND profile = ?", (call.account, row["name"]),
                    "Cannot delete entity, must remove roles from instance profile first.")
    c.delete_owned(call, "instance_profile", row["name"])


@operation("iam", "AddRoleToInstanceProfile", resource=profile_arn, mutating=True)
def add_role_to_instance_profile(call: Call) -> None:
    row = c.entity(call, "instance_profile", call.params["InstanceProfileName"])
    role = c.entity(call, "role", call.params["RoleName"])
    if call.db.execute("SELECT 1 FROM profile_roles WHERE account = ? AND profile = ?",
                       (call.account, row["name"])).fetchone():
        # IAM quota: "Roles in an instance profile: 1".
        raise LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    call.db.execute("INSERT INTO profile_roles VALUES (?, ?, ?)", (call.account, row["name"], role["name"]))


@operation("iam", "RemoveRoleFromInstanceProfile", resource=profile_arn, mutating=True)
def remove_role_from_instance_profile(call: Call) -> None:
    row = c.entity(call, "instance_profile", call.params["InstanceProfileName"])
    role = c.entity(call, "role", call.params["RoleName"])
    gone = call.db.execute("DELETE FROM profile_roles WHERE account = ? AND profile = ? AND role = ?",
                           (call.account, row["name"], role["name"])).rowcount
    if not gone:
        raise NoSuchEntity(f"The role with name {role['name']} cannot be found in instance profile {row['name']}.")


@operation("iam", "ListInstanceProfilesForRole", resource=role_arn)
def list_instance_profiles_for_role(call: Call) -> dict:
    role = c.entity(call, "role", call.params["RoleName"])
    names = [n for (n,) in call.db.execute("SELECT profile FROM profile_roles WHERE account = ? AND role = ?",
                                           (call.account, role["name"]))]
    return {"InstanceProfiles": [profile_shape(call, c.entity(call, "instance_profile", n)) for n in names]}


c.register_tag_operations("InstanceProfile", "instance_profile",
                          lambda call: c.entity(call, "instance_profile", call.params["InstanceProfileName"]),
                          profile_arn)
