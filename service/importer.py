"""``iamlogic account import``: an ``--account-data`` folder (accounts/inventory.py
describes it) loaded into the store as accounts.

Each authorization/*.json (a GetAccountAuthorizationDetails output) becomes
the users, groups, roles, instance profiles and managed policies (every
version) of its account; AWS managed policies are kept once, under the
pseudo-account ``aws``. organization.json gives, for each account of the
tree, the SCP and RCP levels above it (root first); a level with a document
that cannot be read is stored with no policy at all, so it allows nothing
(fail closed, as accounts/ answers UNDECIDED there). An account new to the
store gets a root access key, printed once in the summary. Resource policies
(resources/) are not held by IAM and are not imported.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..accounts.documents import BadDocument, decode
from ..accounts.organization import read_organization
from ..errors import InputError
from ..inputs import MAX_EXPORT_BYTES, read_json
from .operations.common import new_id
from .operations.keys import new_secret
from .store import Store


def _text(raw) -> str:
    return json.dumps(decode(raw))


def _account_of(export: dict, path: Path) -> str:
    for key in ("UserDetailList", "RoleDetailList", "GroupDetailList"):
        for entry in export.get(key) or []:
            arn = entry.get("Arn", "")
            if arn.count(":") >= 5:
                return arn.split(":")[4]
    for p in export.get("Policies") or []:
        arn = p.get("Arn", "")
        if arn.count(":") >= 5 and arn.split(":")[4] != "aws":
            return arn.split(":")[4]
    account = path.stem
    if not (account.isdigit() and len(account) == 12):
        raise InputError(f"{path}: no ARN names the account, and the file name is not an account id")
    return account


def import_folder(store: Store, folder: str | Path) -> dict:
    folder = Path(folder)
    exports = sorted((folder / "authorization").glob("*.json"))
    if not exports:
        raise InputError(f"{folder}: no authorization/*.json (get-account-authorization-details outputs)")
    summary: dict = {"Accounts": [], "Skipped": []}
    with store.transaction() as db:
        for path in exports:
            export = read_json(path, str(path), MAX_EXPORT_BYTES)
            if not isinstance(export, dict):
                raise InputError(f"{path}: expected a GetAccountAuthorizationDetails object")
            account = _account_of(export, path)
            entry = {"AccountId": account, "Users": 0, "Groups": 0, "Roles": 0, "Policies": 0}
            if db.execute("SELECT 1 FROM accounts WHERE id = ?", (account,)).fetchone() is None:
                key_id, secret = new_id("access_key"), new_secret()
                db.execute("INSERT INTO accounts VALUES (?, NULL, NULL, NULL, NULL, strftime('%s','now'))", (account,))
                db.execute("INSERT INTO access_keys VALUES (?, ?, NULL, ?, 'Active', strftime('%s','now'))",
                           (key_id, account, secret))
                entry["AccessKey"] = {"AccessKeyId": key_id, "SecretAccessKey": secret}
            _load(db, account, export, entry, summary["Skipped"], str(path))
            summary["Accounts"].append(entry)
        organization = folder / "organization.json"
        if organization.exists():
            skipped: list = []
            org = read_organization(organization, skipped)
            summary["Skipped"].extend(str(s) for s in skipped)
            for account in org.accounts():
                db.execute("DELETE FROM org_levels WHERE account = ?", (account,))
                if org.id:
                    # aws:PrincipalOrgID and aws:PrincipalOrgPaths of the account's callers (IAM User Guide,
                    # global condition keys: the path is o-id/r-id/ou-id/…/, the account not in it).
                    trail = [n.id for n in org.paths[account] if n.kind != "account"]
                    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"organization:{account}", json.dumps(
                        {"id": org.id, "path": "/".join([org.id, *trail]) + "/"})))
                for kind in ("scps", "rcps"):
                    levels = org.levels(account, kind) or []
                    broken = {name for name, _ in org.broken_levels(account, kind)}
                    for position, level in enumerate(levels):
                        layer = f"{kind[:-1]}/{position}"
                        texts = [] if layer in broken else [p.source.text for p in level["policies"]]
                        db.execute("INSERT INTO org_levels VALUES (?, ?, ?, ?, ?)",
                                   (account, kind[:-1], position, level["name"], json.dumps(texts)))
    return summary


def _time(raw) -> float:
    import datetime as dt  # noqa: PLC0415
    if isinstance(raw, str):
        try:
            return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return dt.datetime.now(dt.timezone.utc).timestamp()


def _entity(db, account: str, kind: str, name: str, entity_id: str | None, path: str, arn: str, created,
            data: dict) -> None:
    db.execute("INSERT OR REPLACE INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (account, kind, name, entity_id or new_id(kind), path or "/", arn, _time(created), json.dumps(data)))


def _owned(db, account: str, kind: str, name: str, entry: dict, inline_key: str, skipped: list, where: str) -> None:
    for p in entry.get(inline_key) or []:
        try:
            db.execute("INSERT OR REPLACE INTO inline_policies VALUES (?, ?, ?, ?, ?)",
                       (account, kind, name, p["PolicyName"], _text(p["PolicyDocument"])))
        except (BadDocument, KeyError, TypeError) as e:
            skipped.append(f"{where}: {kind} {name} inline policy: {e}")
    for a in entry.get("AttachedManagedPolicies") or []:
        if isinstance(a, dict) and a.get("PolicyArn"):
            db.execute("INSERT OR IGNORE INTO attachments VALUES (?, ?, ?, ?)", (account, kind, name, a["PolicyArn"]))
    for i, t in enumerate(entry.get("Tags") or []):
        if isinstance(t, dict) and "Key" in t:
            db.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?, ?, ?, ?)",
                       (account, kind, name, t["Key"], t.get("Value", ""), i))


def _boundary(entry: dict) -> dict:
    b = entry.get("PermissionsBoundary") or {}
    return {"PermissionsBoundary": b["PermissionsBoundaryArn"]} if b.get("PermissionsBoundaryArn") else {}


def _load(db, account: str, export: dict, entry: dict, skipped: list, where: str) -> None:
    for p in export.get("Policies") or []:
        arn = p.get("Arn", "")
        owner = arn.split(":")[4] if arn.count(":") >= 5 else account
        _entity(db, owner, "policy", p["PolicyName"], p.get("PolicyId"), p.get("Path"), arn, p.get("CreateDate"),
                {"Description": p.get("Description")})
        db.execute("DELETE FROM policy_versions WHERE policy_arn = ?", (arn,))
        for v in p.get("PolicyVersionList") or []:
            try:
                db.execute("INSERT INTO policy_versions VALUES (?, ?, ?, ?, ?, ?)",
                           (owner, arn, v["VersionId"], _text(v["Document"]), int(bool(v.get("IsDefaultVersion"))),
                            _time(v.get("CreateDate"))))
            except (BadDocument, KeyError, TypeError) as e:
                skipped.append(f"{where}: policy {arn} version: {e}")
        entry["Policies"] += 1
    for g in export.get("GroupDetailList") or []:
        _entity(db, account, "group", g["GroupName"], g.get("GroupId"), g.get("Path"), g["Arn"], g.get("CreateDate"), {})
        _owned(db, account, "group", g["GroupName"], g, "GroupPolicyList", skipped, where)
        entry["Groups"] += 1
    for u in export.get("UserDetailList") or []:
        _entity(db, account, "user", u["UserName"], u.get("UserId"), u.get("Path"), u["Arn"], u.get("CreateDate"),
                _boundary(u))
        _owned(db, account, "user", u["UserName"], u, "UserPolicyList", skipped, where)
        for group in u.get("GroupList") or []:
            db.execute("INSERT OR IGNORE INTO members VALUES (?, ?, ?)", (account, group, u["UserName"]))
        entry["Users"] += 1
    for r in export.get("RoleDetailList") or []:
        try:
            trust = _text(r.get("AssumeRolePolicyDocument") or {"Version": "2012-10-17", "Statement": []})
        except BadDocument as e:
            skipped.append(f"{where}: role {r.get('RoleName')}: trust policy {e}")
            continue
        _entity(db, account, "role", r["RoleName"], r.get("RoleId"), r.get("Path"), r["Arn"], r.get("CreateDate"),
                {"AssumeRolePolicyDocument": trust, "Description": r.get("Description"),
                 "MaxSessionDuration": r.get("MaxSessionDuration", 3600), **_boundary(r)})
        _owned(db, account, "role", r["RoleName"], r, "RolePolicyList", skipped, where)
        for profile in r.get("InstanceProfileList") or []:
            _entity(db, account, "instance_profile", profile["InstanceProfileName"], profile.get("InstanceProfileId"),
                    profile.get("Path"), profile["Arn"], profile.get("CreateDate"), {})
            db.execute("INSERT OR IGNORE INTO profile_roles VALUES (?, ?, ?)",
                       (account, profile["InstanceProfileName"], r["RoleName"]))
        entry["Roles"] += 1


