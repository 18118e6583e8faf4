"""Managed policies and their versions, attaching them to users, groups and
roles, and inline policies — the same operations for the three kinds of
owner, registered once per kind."""

from __future__ import annotations

from ..registry import Call, DeleteConflict, LimitExceeded, NoSuchEntity, operation
from . import common as c

# IAM quotas: "Versions of a managed policy that can be stored: 5"; managed policies attached to an IAM
# user, group or role: 10 by default (IAM User Guide, IAM object quotas).
MAX_VERSIONS = 5
MAX_ATTACHED = 10


def policy_arn(call: Call) -> str:
    p = call.params
    if p.get("PolicyArn"):
        return p["PolicyArn"]
    return c.path_arn(call, "policy", p["PolicyName"], p.get("Path"))


def policy_shape(call: Call, row: dict, with_tags: bool = False) -> dict:
    attached = call.db.execute("SELECT COUNT(*) FROM attachments WHERE policy_arn = ?", (row["arn"],)).fetchone()[0]
    bounded = call.db.execute("SELECT COUNT(*) FROM entities WHERE json_extract(data, '$.PermissionsBoundary') = ?",
                              (row["arn"],)).fetchone()[0]
    default = call.db.execute("SELECT version FROM policy_versions WHERE policy_arn = ? AND is_default = 1",
                              (row["arn"],)).fetchone()
    out = {"PolicyName": row["name"], "PolicyId": row["id"], "Arn": row["arn"], "Path": row["path"],
           "DefaultVersionId": default[0] if default else None, "AttachmentCount": attached,
           "PermissionsBoundaryUsageCount": bounded, "IsAttachable": True,
           "Description": row["data"].get("Description"), "CreateDate": row["created"],
           "UpdateDate": row["data"].get("UpdateDate", row["created"])}
    if with_tags:
        out["Tags"] = (c.tags(call, "policy", row["name"]) or None) if row["account"] == call.account else None
    return out


def versions(call: Call, arn: str) -> list:
    return call.db.execute("SELECT * FROM policy_versions WHERE policy_arn = ? ORDER BY created, version",
                           (arn,)).fetchall()


def version_shape(v, with_document: bool = True) -> dict:
    return {"Document": c.encoded(v["document"]) if with_document else None, "VersionId": v["version"],
            "IsDefaultVersion": bool(v["is_default"]), "CreateDate": v["created"]}


@operation("iam", "CreatePolicy", resource=policy_arn, mutating=True)
def create_policy(call: Call) -> dict:
    p = call.params
    name, path = p["PolicyName"], p.get("Path", "/")
    document = c.check_document(p["PolicyDocument"])
    arn = c.path_arn(call, "policy", name, path)
    row = c.insert(call, "policy", name, path, arn, {"Description": p.get("Description")},
                   f"A policy called {name} already exists. Duplicate names are not allowed.")
    call.db.execute("INSERT INTO policy_versions VALUES (?, ?, 'v1', ?, 1, ?)", (call.account, arn, document, c.now()))
    call.db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (f"next_version:{arn}",))
    if p.get("Tags"):
        c.add_tags(call, "policy", name, p["Tags"])
    return {"Policy": policy_shape(call, row, with_tags=True)}


@operation("iam", "GetPolicy", resource=policy_arn)
def get_policy(call: Call) -> dict:
    return {"Policy": policy_shape(call, c.managed_policy(call, call.params["PolicyArn"], False), with_tags=True)}


@operation("iam", "ListPolicies", resource=lambda call: c.list_arn(call, "policy"))
def list_policies(call: Call) -> dict:
    p = call.params
    scope = p.get("Scope", "All")
    accounts = {"All": (call.account, "aws"), "AWS": ("aws",), "Local": (call.account,)}[scope]
    rows = []
    for account in accounts:
        for r in call.db.execute("SELECT * FROM entities WHERE account = ? AND kind = 'policy' ORDER BY name "
                                 "COLLATE NOCASE", (account,)).fetchall():
            rows.append(c.row_dict(r))
    out = []
    for r in rows:
        if p.get("PathPrefix") and not r["path"].startswith(p["PathPrefix"]):
            continue
        shape = policy_shape(call, r)
        if p.get("OnlyAttached") and not shape["AttachmentCount"]:
            continue
        usage = p.get("PolicyUsageFilter")
        if usage == "PermissionsPolicy" and not shape["AttachmentCount"]:
            continue
        if usage == "PermissionsBoundary" and not shape["PermissionsBoundaryUsageCount"]:
            continue
        out.append(shape)
    return {"Policies": out}


@operation("iam", "DeletePolicy", resource=policy_arn, mutating=True)
def delete_policy(call: Call) -> None:
    row = c.managed_policy(call, call.params["PolicyArn"], False)
    if row["account"] != call.account:
        raise c.InvalidInput("An AWS managed policy cannot be deleted.")
    c.require_empty(call, "SELECT 1 FROM attachments WHERE policy_arn = ?", (row["arn"],),
                    "Cannot delete a policy attached to entities.")
    if len(versions(call, row["arn"])) > 1:
        raise DeleteConflict("This policy has more than one version. Before you delete a policy, you must delete "
                             "the policy's versions. The default version is deleted with the policy.")
    call.db.execute("DELETE FROM policy_versions WHERE policy_arn = ?", (row["arn"],))
    c.delete_owned(call, "policy", row["name"])


@operation("iam", "CreatePolicyVersion", resource=policy_arn, mutating=True)
def create_policy_version(call: Call) -> dict:
    p = call.params
    row = c.managed_policy(call, p["PolicyArn"], False)
    document = c.check_document(p["PolicyDocument"])
    existing = versions(call, row["arn"])
    if len(existing) >= MAX_VERSIONS:
        raise LimitExceeded(f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new "
                            "version, you must delete an existing version.")
    # Version ids are never reused: v1, v2, … counted per policy.
    key = f"next_version:{row['arn']}"
    found = call.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    number = int(found[0]) + 1 if found else len(existing) + 1
    call.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(number)))
    version = f"v{number}"
    default = bool(p.get("SetAsDefault"))
    if default:
        call.db.execute("UPDATE policy_versions SET is_default = 0 WHERE policy_arn = ?", (row["arn"],))
    call.db.execute("INSERT INTO policy_versions VALUES (?, ?, ?, ?, ?, ?)",
                    (row["account"], row["arn"], version, document, int(default), c.now()))
    row["data"]["UpdateDate"] = c.now()
    c.save_data(call, row)
    v = call.db.execute("SELECT * FROM policy_versions WHERE policy_arn = ? AND version = ?",
                        (row["arn"], version)).fetchone()
    return {"PolicyVersion": version_shape(v, with_document=False)}


def _version(call: Call, arn: str, version: str):
    v = call.db.execute("SELECT * FROM policy_versions WHERE policy_arn = ? AND version = ?", (arn, version)).fetchone()
    if v is None:
        raise NoSuchEntity(f"Policy {arn} version {version} does not exist or is not attachable.")
    return v


@operation("iam", "GetPolicyVersion", resource=policy_arn)
def get_policy_version(call: Call) -> dict:
    row = c.managed_policy(call, call.params["PolicyArn"], False)
    return {"PolicyVersion": version_shape(_version(call, row["arn"], call.params["VersionId"]))}


@operation("iam", "ListPolicyVersions", resource=policy_arn)
def list_policy_versions(call: Call) -> dict:
    row = c.managed_policy(call, call.params["PolicyArn"], False)
    return {"Versions": [version_shape(v, with_document=False) for v in reversed(versions(call, row["arn"]))]}


@operation("iam", "DeletePolicyVersion", resource=policy_arn, mutating=True)
def delete_policy_version(call: Call) -> None:
    row = c.managed_policy(call, call.params["PolicyArn"], False)
    v = _version(call, row["arn"], call.params["VersionId"])
    if v["is_default"]:
        raise DeleteConflict("Cannot delete the default version of a policy.")
    call.db.execute("DELETE FROM policy_versions WHERE policy_arn = ? AND version = ?", (row["arn"], v["version"]))


@operation("iam", "SetDefaultPolicyVersion", resource=policy_arn, mutating=True)
def set_default_policy_version(call: Call) -> None:
    row = c.managed_policy(call, call.params["PolicyArn"], False)
    v = _version(call, row["arn"], call.params["VersionId"])
    call.db.execute("UPDATE policy_versions SET is_default = (version = ?) WHERE policy_arn = ?",
                    (v["version"], row["arn"]))


c.register_tag_operations("Policy", "policy", lambda call: c.managed_policy(call, call.params["PolicyArn"], False),
                          policy_arn)


# ------------------------------------------------------------------ per owner kind

_OWNERS = {"User": ("user", "UserName"), "Group": ("group", "GroupName"), "Role": ("role", "RoleName")}


def _register_owner(word: str, kind: str, param: str) -> None:
    def owner_arn(call: Call) -> str:
        return c.entity_arn(call, kind, call.params.get(param))

    def owner(call: Call) -> dict:
        return c.entity(call, kind, call.params[param])

    @operation("iam", f"Attach{word}Policy", resource=owner_arn, mutating=True)
    def attach(call: Call) -> None:
        row = owner(call)
        policy = c.managed_policy(call, call.params["PolicyArn"])
        count = call.db.execute("SELECT COUNT(*) FROM attachments WHERE account = ? AND owner_kind = ? AND owner = ?",
                                (call.account, kind, row["name"])).fetchone()[0]
        already = call.db.execute("SELECT 1 FROM attachments WHERE account = ? AND owner_kind = ? AND owner = ? AND "
                                  "policy_arn = ?", (call.account, kind, row["name"], policy["arn"])).fetchone()
        if not already and count >= MAX_ATTACHED:
            raise LimitExceeded(f"Cannot exceed quota for PoliciesPer{word}: {MAX_ATTACHED}")
        call.db.execute("INSERT OR IGNORE INTO attachments VALUES (?, ?, ?, ?)",
                        (call.account, kind, row["name"], policy["arn"]))

    @operation("iam", f"Detach{word}Policy", resource=owner_arn, mutating=True)
    def detach(call: Call) -> None:
        row = owner(call)
        arn = call.params["PolicyArn"]
        gone = call.db.execute("DELETE FROM attachments WHERE account = ? AND owner_kind = ? AND owner = ? AND "
                               "policy_arn = ?", (call.account, kind, row["name"], arn)).rowcount
        if not gone:
            raise NoSuchEntity(f"Policy {arn} was not found.")

    @operation("iam", f"ListAttached{word}Policies", resource=owner_arn)
    def list_attached(call: Call) -> dict:
        row = owner(call)
        out = []
        for (arn,) in call.db.execute("SELECT policy_arn FROM attachments WHERE account = ? AND owner_kind = ? AND "
                                      "owner = ? ORDER BY policy_arn", (call.account, kind, row["name"])):
            p = call.store.entity_by_arn(arn, call.db)
            if p is None or (call.params.get("PathPrefix") and not p["path"].startswith(call.params["PathPrefix"])):
                continue
            out.append({"PolicyName": p["name"], "PolicyArn": arn})
        return {"AttachedPolicies": out}

    @operation("iam", f"Put{word}Policy", resource=owner_arn, mutating=True)
    def put_inline(call: Call) -> None:
        row = owner(call)
        document = c.check_document(call.params["PolicyDocument"])
        call.db.execute("INSERT OR REPLACE INTO inline_policies VALUES (?, ?, ?, ?, ?)",
                        (call.account, kind, row["name"], call.params["PolicyName"], document))

    def inline(call: Call, row: dict):
        found = call.db.execute("SELECT * FROM inline_policies WHERE account = ? AND owner_kind = ? AND owner = ? AND "
                                "name = ?", (call.account, kind, row["name"], call.params["PolicyName"])).fetchone()
        if found is None:
            raise NoSuchEntity(f"The {kind} policy with name {call.params['PolicyName']} cannot be found.")
        return found

    @operation("iam", f"Get{word}Policy", resource=owner_arn)
    def get_inline(call: Call) -> dict:
        row = owner(call)
        found = inline(call, row)
        return {param: row["name"], "PolicyName": found["name"], "PolicyDocument": c.encoded(found["document"])}

    @operation("iam", f"Delete{word}Policy", resource=owner_arn, mutating=True)
    def delete_inline(call: Call) -> None:
        row = owner(call)
        inline(call, row)
        call.db.execute("DELETE FROM inline_policies WHERE account = ? AND owner_kind = ? AND owner = ? AND name = ?",
                        (call.account, kind, row["name"], call.params["PolicyName"]))

    @operation("iam", f"List{word}Policies", resource=owner_arn)
    def list_inline(call: Call) -> dict:
        row = owner(call)
        return {"PolicyNames": [n for (n,) in call.db.execute(
            "SELECT name FROM inline_policies WHERE account = ? AND owner_kind = ? AND owner = ? ORDER BY name",
            (call.account, kind, row["name"]))]}


for _word, (_kind, _param) in _OWNERS.items():
    _register_owner(_word, _kind, _param)


# ListEntitiesForPolicy's EntityFilter names the kinds listed; LocalManagedPolicy and AWSManagedPolicy name
# no user, group or role, so nothing is listed (IAM API Reference, ListEntitiesForPolicy, EntityFilter).
_ENTITY_LISTS = {"group": ("PolicyGroups", "GroupName", "GroupId", "Group"),
                 "user": ("PolicyUsers", "UserName", "UserId", "User"),
                 "role": ("PolicyRoles", "RoleName", "RoleId", "Role")}


@operation("iam", "ListEntitiesForPolicy", resource=policy_arn)
def list_entities_for_policy(call: Call) -> dict:
    """The users, groups and roles the policy is attached to (PermissionsPolicy) and the users and roles
    it is the permissions boundary of (PermissionsBoundary); PolicyUsageFilter picks one, none lists both
    (IAM API Reference, ListEntitiesForPolicy)."""
    p = call.params
    row = c.managed_policy(call, p["PolicyArn"], False)
    usage, wanted, prefix = p.get("PolicyUsageFilter"), p.get("EntityFilter"), p.get("PathPrefix")
    found: set[tuple[str, str]] = set()
    if usage in (None, "PermissionsPolicy"):
        found |= set(call.db.execute("SELECT owner_kind, owner FROM attachments WHERE policy_arn = ? AND account = ?",
                                     (row["arn"], call.account)).fetchall())
    if usage in (None, "PermissionsBoundary"):
        found |= set(call.db.execute("SELECT kind, name FROM entities WHERE account = ? AND kind IN ('user', 'role') "
                                     "AND json_extract(data, '$.PermissionsBoundary') = ?",
                                     (call.account, row["arn"])).fetchall())
    out = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
    for kind, name in sorted(found, key=lambda kn: (kn[0], kn[1].lower())):
        list_key, name_key, id_key, word = _ENTITY_LISTS[kind]
        if wanted and wanted != word:
            continue
        e = call.store.entity(call.account, kind, name, call.db)
        if e is not None and (not prefix or e["path"].startswith(prefix)):
            out[list_key].append({name_key: e["name"], id_key: e["id"]})
    return out
