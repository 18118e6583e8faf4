"""The organization tree: root → OUs → accounts, with the SCPs and RCPs
attached at each node.

``organization.json``::

    {
      "id": "o-exampleorg1",
      "management_account": "111111111111",
      "scps": {"FullAWSAccess": DOCUMENT, "DenyLeaveOrg": DOCUMENT},
      "rcps": {"RCPFullAWSAccess": DOCUMENT},
      "root": {"id": "r-ab12", "name": "Root", "scps": ["FullAWSAccess"], "rcps": ["RCPFullAWSAccess"],
               "children": [
                 {"ou": "ou-ab12-prod", "name": "Prod", "scps": ["FullAWSAccess"], "children": [
                   {"account": "222222222222", "name": "prod", "scps": ["FullAWSAccess"]}]}]}
    }

Documents are objects or JSON text. A node names its policies; each level of
an account's path (root first, the account last) must allow, as SEMANTICS §1
says; SCPs and RCPs do not apply to the management account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..translator import Policy, PolicyType
from .documents import BadDocument, read_document


@dataclass
class Node:
    kind: str  # "root" | "ou" | "account"
    id: str
    name: str
    scps: list[str] = field(default_factory=list)
    rcps: list[str] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)


@dataclass
class Organization:
    id: str | None  # the caller's aws:PrincipalOrgID when its account is in the tree
    root: Node
    management_account: str | None
    scps: dict[str, Policy]
    rcps: dict[str, Policy]
    paths: dict[str, list[Node]] = field(default_factory=dict)  # account → root … account

    def accounts(self) -> list[str]:
        return list(self.paths)

    def levels(self, account: str | None, kind: str) -> list[dict] | None:
        """The scenario's ``scps`` / ``rcps`` levels for an account (root
        first), or None where none apply: an account outside the
        organization, or its management account."""
        if account is None or account == self.management_account or account not in self.paths:
            return None
        table = self.scps if kind == "scps" else self.rcps
        out = []
        for node in self.paths[account]:
            names = node.scps if kind == "scps" else node.rcps
            out.append({"name": f"{node.kind} {node.name}",
                        "policies": [table[n] for n in names if n in table]})
        return out


def _node(raw: object, where: str, kind: str) -> Node:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object")
    ident = raw.get("id") if kind == "root" else raw.get(kind)
    if not isinstance(ident, str) or not ident:
        raise InputError(f"{where}: missing {'id' if kind == 'root' else kind!r}")
    node = Node(kind, ident, raw.get("name") or ident, list(raw.get("scps") or []), list(raw.get("rcps") or []))
    for i, child in enumerate(raw.get("children") or []):
        child_kind = "account" if isinstance(child, dict) and "account" in child else "ou"
        if kind == "account":
            raise InputError(f"{where}: an account has no children")
        node.children.append(_node(child, f"{where}.children[{i}]", child_kind))
    return node


def read_organization(path: Path, skipped: list) -> Organization:
    from .inventory import Skipped

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(raw, dict) or "root" not in raw:
        raise InputError(f"{path}: expected an object with a \"root\"")
    root = _node(raw["root"], f"{path}: root", "root")
    tables: dict[str, dict[str, Policy]] = {}
    for kind, ptype in (("scps", PolicyType.SCP), ("rcps", PolicyType.RCP)):
        tables[kind] = {}
        for name, document in (raw.get(kind) or {}).items():
            try:
                tables[kind][name] = read_document(document, ptype, f"{kind[:-1].upper()} {name}")
            except BadDocument as e:
                skipped.append(Skipped(str(path), f"{kind[:-1].upper()} {name}", str(e)))
    org = Organization(raw.get("id"), root, raw.get("management_account"), tables["scps"], tables["rcps"])

    def walk(node: Node, trail: list[Node]) -> None:
        trail = trail + [node]
        for kind, names in (("scps", node.scps), ("rcps", node.rcps)):
            for name in names:
                if name not in tables[kind]:
                    skipped.append(Skipped(str(path), f"{node.kind} {node.name}",
                                           f"{kind[:-1].upper()} {name} is not defined (or was skipped)"))
        if node.kind == "account":
            org.paths[node.id] = trail
        for child in node.children:
            walk(child, trail)

    walk(root, [])
    return org
