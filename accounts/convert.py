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
from pathlib import Path

from ..errors import InputError

_KINDS = {"SERVICE_CONTROL_POLICY": "scps", "RESOURCE_CONTROL_POLICY": "rcps"}


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: missing (the AWS CLI output this file should hold)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected the JSON object the AWS CLI prints")
    return data


def _list(data: dict, key: str, path: Path) -> list:
    value = data.get(key)
    if not isinstance(value, list):
        raise InputError(f"{path}: no {key!r} list")
    return value


def organization_from_cli(folder: str | Path) -> dict:
    """The organization.json object (organization.py's format)."""
    folder = Path(folder)
    out: dict = {"scps": {}, "rcps": {}}
    described = folder / "describe-organization.json"
    if described.is_file():
        org = _read(described).get("Organization") or {}
        out["id"] = org.get("Id")
        out["management_account"] = org.get("MasterAccountId") or org.get("ManagementAccountId")
    roots = _list(_read(folder / "list-roots.json"), "Roots", folder / "list-roots.json")
    if len(roots) != 1:
        raise InputError(f"{folder / 'list-roots.json'}: expected one root, found {len(roots)}")

    def policies(target: str, node: dict) -> None:
        files = sorted((folder / "list-policies-for-target").glob(f"{target}*.json"))
        if not files:
            raise InputError(f"{folder / 'list-policies-for-target' / (target + '.json')}: missing "
                             f"(the policies attached to {target})")
        for path in files:
            for summary in _list(_read(path), "Policies", path):
                kind = _KINDS.get(summary.get("Type"))
                if kind is None:
                    continue  # tag, backup and AI opt-out policies do not decide requests
                name = summary["Name"]
                node.setdefault(kind, []).append(name)
                if name not in out[kind]:
                    described_path = folder / "describe-policy" / f"{summary['Id']}.json"
                    content = (_read(described_path).get("Policy") or {}).get("Content")
                    if content is None:
                        raise InputError(f"{described_path}: no Policy.Content")
                    try:
                        out[kind][name] = json.loads(content) if isinstance(content, str) else content
                    except json.JSONDecodeError as e:
                        raise InputError(f"{described_path}: Policy.Content is not JSON ({e.msg})") from None

    def children(parent: str, node: dict) -> None:
        ous_path = folder / "list-organizational-units-for-parent" / f"{parent}.json"
        accounts_path = folder / "list-accounts-for-parent" / f"{parent}.json"
        node["children"] = []
        for account in _list(_read(accounts_path), "Accounts", accounts_path):
            child = {"account": account["Id"], "name": account.get("Name") or account["Id"]}
            policies(account["Id"], child)
            node["children"].append(child)
        for ou in _list(_read(ous_path), "OrganizationalUnits", ous_path):
            child = {"ou": ou["Id"], "name": ou.get("Name") or ou["Id"]}
            policies(ou["Id"], child)
            children(ou["Id"], child)
            node["children"].append(child)

    root = {"id": roots[0]["Id"], "name": roots[0].get("Name") or "Root"}
    policies(roots[0]["Id"], root)
    children(roots[0]["Id"], root)
    out["root"] = root
    return out
