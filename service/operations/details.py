"""GetAccountAuthorizationDetails: the whole account in one answer, in the
shape ``aws iam get-account-authorization-details`` writes — which is what
an ``--account-data`` folder's authorization/*.json holds, so a live server
can be analysed with who-can, what-can and reach."""

from __future__ import annotations

from ..registry import Call, operation
from . import common as c
from .policies import policy_shape, version_shape, versions
from .roles import profile_shape, role_shape


def _inline(call: Call, kind: str, name: str) -> list[dict]:
    return [{"PolicyName": n, "PolicyDocument": c.encoded(d)} for n, d in call.db.execute(
        "SELECT name, document FROM inline_policies WHERE account = ? AND owner_kind = ? AND owner = ? ORDER BY name",
        (call.account, kind, name))]


def _attached(call: Call, kind: str, name: str) -> list[dict]:
    out = []
    for (arn,) in call.db.execute("SELECT policy_arn FROM attachments WHERE account = ? AND owner_kind = ? AND "
                                  "owner = ? ORDER BY policy_arn", (call.account, kind, name)):
        row = call.store.entity_by_arn(arn, call.db)
        out.append({"PolicyName": row["name"] if row else arn.rsplit("/", 1)[-1], "PolicyArn": arn})
    return out


@operation("iam", "GetAccountAuthorizationDetails")
def get_account_authorization_details(call: Call) -> dict:
    wanted = set(call.params.get("Filter") or ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"])
    out: dict = {}
    if "User" in wanted:
        users = []
        for r in c.listed(call, "user"):
            groups = [g for (g,) in call.db.execute("SELECT group_name FROM members WHERE account = ? AND user_name = ? "
                                                    "ORDER BY group_name", (call.account, r["name"]))]
            users.append({"Path": r["path"], "UserName": r["name"], "UserId": r["id"], "Arn": r["arn"],
                          "CreateDate": r["created"], "UserPolicyList": _inline(call, "user", r["name"]),
                          "GroupList": groups, "AttachedManagedPolicies": _attached(call, "user", r["name"]),
                          "PermissionsBoundary": c.boundary_shape(r["data"]),
                          "Tags": c.tags(call, "user", r["name"])})
        out["UserDetailList"] = users
    if "Group" in wanted:
        out["GroupDetailList"] = [
            {"Path": r["path"], "GroupName": r["name"], "GroupId": r["id"], "Arn": r["arn"], "CreateDate": r["created"],
             "GroupPolicyList": _inline(call, "group", r["name"]),
             "AttachedManagedPolicies": _attached(call, "group", r["name"])} for r in c.listed(call, "group")]
    if "Role" in wanted:
        roles = []
        for r in c.listed(call, "role"):
            shape = role_shape(call, r, with_tags=True)
            profiles = [c.entity(call, "instance_profile", p) for (p,) in call.db.execute(
                "SELECT profile FROM profile_roles WHERE account = ? AND role = ?", (call.account, r["name"]))]
            shape.update({"InstanceProfileList": [profile_shape(call, p) for p in profiles],
                          "RolePolicyList": _inline(call, "role", r["name"]),
                          "AttachedManagedPolicies": _attached(call, "role", r["name"]),
                          "Tags": shape.get("Tags") or []})
            shape.pop("Description", None)
            shape.pop("MaxSessionDuration", None)
            roles.append(shape)
        out["RoleDetailList"] = roles
    policies = []
    for account, kind in ((call.account, "LocalManagedPolicy"), ("aws", "AWSManagedPolicy")):
        if kind not in wanted:
            continue
        for r in call.db.execute("SELECT * FROM entities WHERE account = ? AND kind = 'policy' ORDER BY name",
                                 (account,)).fetchall():
            row = c.row_dict(r)
            shape = policy_shape(call, row)
            # AWS managed policies are listed when something in the account uses them.
            if account == "aws" and not (shape["AttachmentCount"] or shape["PermissionsBoundaryUsageCount"]):
                continue
            shape["PolicyVersionList"] = [version_shape(v) for v in versions(call, row["arn"])]
            policies.append(shape)
    if policies or wanted & {"LocalManagedPolicy", "AWSManagedPolicy"}:
        out["Policies"] = policies
    return out
