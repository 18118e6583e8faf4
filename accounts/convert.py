"""organization.json from the AWS CLI's own outputs.

The folder holds what these commands print (JSON), one file each:

    describe-organization.json                      aws organizations describe-organization
    list-roots.json                                 aws organizations list-roots
    list-organizational-units-for-parent/ID.json    ... list-organizational-units-for-parent --parent-id ID
    list-accounts-for-parent/ID.json                ... list-accounts-for-parent --parent-id ID
    list-policies-for-target/ID*.json               ... list-policies-for-target --target-id ID --filter F
                                                    (one file per filter: ID.scp.json, ID.rcp.json)
    describe-policy/POLICY-ID.json                  ... describe-policy --policy-id POLICY-ID

for the root and every OU and account under it. A missing listing is an
error naming the file: the tree must be whole, or SCP levels would be
silently dropped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import InputError
from ..inputs import MAX_INPUT_BYTES, quote, read_json

_KINDS = {"SERVICE_CONTROL_POLICY": "scps", "RESOURCE_CONTROL_POLICY": "rcps"}
# Organizations ids (r-…, ou-…-…, 12-digit accounts, p-…): also file names
# here, so nothing else is taken (no "/", "..", or glob characters).
_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _read(path: Path) -> dict:
    if not path.exists() and not path.is_symlink():
        raise InputError(f"{path}: missing (the AWS CLI output this file should hold)")
    data = read_json(path, str(path), MAX_INPUT_BYTES)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected the JSON object the AWS CLI prints")
    return data


def _list(data: dict, key: str, path: Path) -> list:
    value = data.get(key)
    if not isinstance(value, list):
        raise InputError(f"{path}: no {key!r} list")
    return value


def _field(entry: object, key: str, path: Path, where: str, pattern: re.Pattern | None = None) -> str:
    """A string field of a listed entry, named in the error when it is not one."""
    value = entry.get(key) if isinstance(entry, dict) else None
    if value is None:
        raise InputError(f"{path}: {where}.{key}: missing")
    if not isinstance(value, str) or not value:
        raise InputError(f"{path}: {where}.{key}: expected a string, not {quote(value)}")
    if pattern is not None and not pattern.fullmatch(value):
        raise InputError(f"{path}: {where}.{key}: {quote(value)} is not an Organizations id")
    return value


def organization_from_cli(folder: str | Path) -> dict:
    """The organization.json object (organization.py's format)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of AWS CLI outputs")
    out: dict = {"scps": {}, "rcps": {}}
    described = folder / "describe-organization.json"
    if described.exists() or described.is_symlink():  # read, or refused: never silently left out
        org = _read(described).get("Organization") or {}
        if not isinstance(org, dict):
            raise InputError(f"{described}: Organization: expected an object")
        for key, field_names in (("id", ("Id",)), ("management_account", ("MasterAccountId", "ManagementAccountId"))):
            value = next((org[k] for k in field_names if org.get(k)), None)
            if value is not None and not isinstance(value, str):
                raise InputError(f"{described}: Organization.{field_names[0]}: expected a string")
            out[key] = value
    roots_path = folder / "list-roots.json"
    roots = _list(_read(roots_path), "Roots", roots_path)
    if len(roots) != 1:
        raise InputError(f"{roots_path}: expected one root, found {len(roots)}")
    seen: set[str] = set()

    def policies(target: str, node: dict) -> None:
        files = sorted((folder / "list-policies-for-target").glob(f"{target}.json")) + sorted(
            (folder / "list-policies-for-target").glob(f"{target}.*.json"))
        if not files:
            raise InputError(f"{folder / 'list-policies-for-target' / (target + '.json')}: missing "
                             f"(the policies attached to {target})")
        for path in files:
            for i, summary in enumerate(_list(_read(path), "Policies", path)):
                where = f"Policies[{i}]"
                if not isinstance(summary, dict):
                    raise InputError(f"{path}: {where}: expected an object")
                kind = _KINDS.get(summary.get("Type")) if isinstance(summary.get("Type"), str) else None
                if kind is None:
                    if "Type" not in summary or not isinstance(summary.get("Type"), str):
                        raise InputError(f"{path}: {where}.Type: missing or not a string")
                    continue  # tag, backup and AI opt-out policies do not decide requests
                name = _field(summary, "Name", path, where)
                ident = _field(summary, "Id", path, where, _ID)
                node.setdefault(kind, []).append(name)
                if name not in out[kind]:
                    described_path = folder / "describe-policy" / f"{ident}.json"
                    policy = _read(described_path).get("Policy")
                    content = policy.get("Content") if isinstance(policy, dict) else None
                    if content is None:
                        raise InputError(f"{described_path}: no Policy.Content")
                    if isinstance(content, str):
                        try:
                            content = json.loads(content)
                        except json.JSONDecodeError as e:
                            raise InputError(f"{described_path}: Policy.Content is not JSON ({e.msg})") from None
                        except (RecursionError, ValueError):
                            raise InputError(f"{described_path}: Policy.Content is not readable JSON") from None
                    if not isinstance(content, dict):
                        # Never copied on as an SCP: a policy document is an object.
                        raise InputError(f"{described_path}: Policy.Content is not a policy document "
                                         f"(found {quote(content)})")
                    out[kind][name] = content

    def children(parent: str, node: dict, depth: int) -> None:
        if parent in seen:
            raise InputError(f"{folder}: {parent} is listed twice in the tree (a cycle, or an OU with two parents)")
        seen.add(parent)
        if depth > 10:
            raise InputError(f"{folder}: the tree under {parent} is more than 10 levels deep (AWS allows 5)")
        ous_path = folder / "list-organizational-units-for-parent" / f"{parent}.json"
        accounts_path = folder / "list-accounts-for-parent" / f"{parent}.json"
        node["children"] = []
        for i, account in enumerate(_list(_read(accounts_path), "Accounts", accounts_path)):
            ident = _field(account, "Id", accounts_path, f"Accounts[{i}]", _ID)
            if ident in seen:
                raise InputError(f"{accounts_path}: account {ident} is listed twice in the tree")
            seen.add(ident)
            name = account.get("Name") or ident
            if not isinstance(name, str):
                raise InputError(f"{accounts_path}: Accounts[{i}].Name: expected a string")
            child = {"account": ident, "name": name}
            policies(ident, child)
            node["children"].append(child)
        for i, ou in enumerate(_list(_read(ous_path), "OrganizationalUnits", ous_path)):
            ident = _field(ou, "Id", ous_path, f"OrganizationalUnits[{i}]", _ID)
            name = ou.get("Name") or ident
            if not isinstance(name, str):
                raise InputError(f"{ous_path}: OrganizationalUnits[{i}].Name: expected a string")
            child = {"ou": ident, "name": name}
            policies(ident, child)
            children(ident, child, depth + 1)
            node["children"].append(child)

    root_id = _field(roots[0], "Id", roots_path, "Roots[0]", _ID)
    root_name = roots[0].get("Name") or "Root"
    if not isinstance(root_name, str):
        raise InputError(f"{roots_path}: Roots[0].Name: expected a string")
    root = {"id": root_id, "name": root_name}
    policies(root_id, root)
    children(root_id, root, 0)
    out["root"] = root
    return out
